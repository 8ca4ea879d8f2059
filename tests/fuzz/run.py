"""Fuzzes Fedgate's served OpenAPI document with schemathesis.

Starts the given `fedgate` binary on loopback with an embedded database, creates a
subscriber, an application (configured, so its hosted service is ACTIVE), an access
key and a user, puts the signing proxy in front, and runs schemathesis against the
document the server serves. Fails on any server error or schema violation.

Usage: run.py FEDGATE_BINARY SCHEMATHESIS_BINARY [extra schemathesis args]
"""

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, proc):
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/readyz") as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("the server did not become ready")


def main():
    fedgate, schemathesis, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    tmp = tempfile.mkdtemp(prefix="fedgate-fuzz-")
    port, proxy_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ,
               FEDGATE_LISTEN=f"127.0.0.1:{port}",
               FEDGATE_PUBLIC_BASE_URL=base,
               FEDGATE_DATA_DIR=os.path.join(tmp, "data"),
               FEDGATE_LOG_LEVEL="error",
               # The fuzzer invents issuers: provider calls reach loopback only.
               FEDGATE_TESTING__OUTBOUND_LOOPBACK_ONLY="true",
               FEDGATE_LIMITS__SIGNUPS_PER_ADDRESS_PER_HOUR="100000",
               FEDGATE_LIMITS__SIGNIN_FAILURES_PER_ADDRESS="100000",
               FEDGATE_LIMITS__SIGNIN_FAILURES_PER_ACCOUNT="100000",
               FEDGATE_LIMITS__API_AUTH_FAILURES_PER_MINUTE="100000",
               FEDGATE_LIMITS__LOGIN_STARTS_PER_ADDRESS_PER_MINUTE="100000",
               FEDGATE_LIMITS__CALLBACKS_PER_ADDRESS_PER_MINUTE="100000")
    server = subprocess.Popen([fedgate, "serve"], env=env)
    proxy = None
    try:
        wait_ready(base, server)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def call(method, path, body=None, csrf=None):
            headers = {"content-type": "application/json", "origin": base}
            if csrf:
                headers["x-csrf-token"] = csrf
            data = json.dumps(body).encode() if body is not None else None
            req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
            with opener.open(req) as r:
                return json.load(r)

        me = call("POST", "/manage/v1/signup", {"email": "fuzz@example.com", "password": "a long fuzzing passphrase"})
        csrf = me["csrfToken"]
        app = call("POST", "/manage/v1/applications", {"name": "Fuzzed"}, csrf)["id"]
        props = f"/manage/v1/applications/{app}/properties"
        call("POST", props, {"kind": "google_oauth_credentials", "instanceName": "google",
                             "clientId": "1234-abc.apps.googleusercontent.com", "clientSecret": "GOCSPX-fuzz"}, csrf)
        call("POST", props, {"kind": "oauth_integration", "instanceName": "web",
                             "redirectUris": ["https://app.example.com/cb"]}, csrf)
        key = call("POST", f"/manage/v1/applications/{app}/access-keys", None, csrf)
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        creds = os.path.join(tmp, "credentials.json")
        with open(creds, "w") as f:
            json.dump({"keyId": key["key"]["id"], "secret": key["secret"], "cookie": cookie, "csrf": csrf}, f)

        proxy = subprocess.Popen([sys.executable, os.path.join(HERE, "signing_proxy.py"),
                                  str(proxy_port), base, creds])
        proxied = f"http://127.0.0.1:{proxy_port}"
        wait_ready(proxied, proxy)
        # The fuzzer works on the real application (its other ids are random); deleting
        # that application would turn the rest of the run into 404s, and the deletion is
        # covered by the integration suite.
        config = os.path.join(tmp, "schemathesis.toml")
        with open(config, "w") as f:
            f.write(f'[parameters]\nappId = "{app}"\n')
        args = [schemathesis, "--config-file", config, "run", f"{proxied}/openapi.json",
                "--url", proxied,
                "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                            "response_headers_conformance,response_schema_conformance,negative_data_rejection",
                # Signing out would end the session the proxy uses for everything else;
                # deleting the application, see above.
                "--exclude-operation-id", "post_manage_v1_signout",
                "--exclude-operation-id", "delete_manage_v1_applications_appId",
                "--seed", "20261122",
                "--max-examples", os.environ.get("FG_FUZZ_EXAMPLES", "25"),
                "--no-color", *extra]
        print("+", " ".join(args), flush=True)
        sys.exit(subprocess.call(args))
    finally:
        for p in (proxy, server):
            if p is not None:
                p.terminate()
                p.wait()


if __name__ == "__main__":
    main()
