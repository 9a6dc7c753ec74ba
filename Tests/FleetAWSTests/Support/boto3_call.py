"""Calls boto3 (an independent client) against the moto endpoint, for checking AWS-side state from the tests.

stdin: {"endpoint": url, "region": r, "service": "s3"|"iot", "method": "head_object", "params": {...},
        "readBody": bool}
stdout: the response as JSON (dates and bytes as strings; a streamed Body read and returned base64 if readBody);
        {"error": {"code": c, "message": m}} for a service error.
"""
import base64
import json
import sys

import boto3
import botocore.exceptions
from botocore.config import Config


def main():
    call = json.load(sys.stdin)
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
    client = boto3.client(call["service"], endpoint_url=call["endpoint"], region_name=call["region"],
                          aws_access_key_id="testing", aws_secret_access_key="testing", config=config)
    try:
        response = getattr(client, call["method"])(**call.get("params", {}))
    except botocore.exceptions.ClientError as error:
        json.dump({"error": error.response.get("Error", {})}, sys.stdout)
        return
    response.pop("ResponseMetadata", None)
    body = response.pop("Body", None)
    if body is not None and call.get("readBody"):
        response["BodyBase64"] = base64.b64encode(body.read()).decode()
    json.dump(response, sys.stdout, default=str)


if __name__ == "__main__":
    main()
