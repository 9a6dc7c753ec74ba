"""Signs requests with botocore (an independent SigV4 implementation) for the Swift signer's tests.

stdin: JSON list of cases; stdout: JSON list of results, one per case.
case: {kind: "header"|"presign", service, region, accessKey, secretKey, token?, timestamp: "YYYYMMDDTHHMMSSZ",
       method, url, headers: [[name, value], ...], bodyBase64?, expires?}
"""
import base64
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(case):
    stamp = datetime.datetime.strptime(case["timestamp"], "%Y%m%dT%H%M%SZ")
    botocore.auth.get_current_datetime = lambda *args, **kwargs: stamp
    credentials = Credentials(case["accessKey"], case["secretKey"], case.get("token"))
    body = base64.b64decode(case["bodyBase64"]) if case.get("bodyBase64") else None
    request = AWSRequest(method=case["method"], url=case["url"], data=body)
    for name, value in case.get("headers", []):
        request.headers[name] = value
    s3 = case["service"] == "s3"
    if case["kind"] == "presign":
        auth_class = botocore.auth.S3SigV4QueryAuth if s3 else botocore.auth.SigV4QueryAuth
        auth = auth_class(credentials, case["service"], case["region"], expires=case["expires"])
    else:
        auth_class = botocore.auth.S3SigV4Auth if s3 else botocore.auth.SigV4Auth
        auth = auth_class(credentials, case["service"], case["region"])
    auth.add_auth(request)
    result = {"url": request.url}
    if case["kind"] == "presign":
        result["signature"] = request.url.rsplit("X-Amz-Signature=", 1)[1]
    else:
        result["authorization"] = request.headers["Authorization"]
        result["canonicalRequest"] = auth.canonical_request(request)
    return result


def main():
    cases = json.load(sys.stdin)
    json.dump([sign(case) for case in cases], sys.stdout)


if __name__ == "__main__":
    main()
