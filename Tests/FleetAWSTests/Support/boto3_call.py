"""Calls boto3 (an independent client) against the moto endpoint, for checking AWS-side state from the tests.

stdin: {"endpoint": url, "region": r, "service": "s3"|"iot", "method": "head_object", "params": {...},
        "readBody": bool}
   or: {"endpoint": url, "region": r, "calls": [{"service", "method", "params", "readBody"}, ...]} for several calls
        in one process (starting Python and importing boto3 takes about a second; a batch pays it once)
stdout: the response as JSON (dates and bytes as strings; a streamed Body read and returned base64 if readBody);
        {"error": {"code": c, "message": m}} for a service error; for a batch, {"results": [response, ...]}.
"""
import base64
import json
import sys

import boto3
import botocore.exceptions
from botocore.config import Config


def call_one(clients, endpoint, region, call):
    service = call["service"]
    if service not in clients:
        config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
        clients[service] = boto3.client(service, endpoint_url=endpoint, region_name=region,
                                        aws_access_key_id="testing", aws_secret_access_key="testing", config=config)
    try:
        response = getattr(clients[service], call["method"])(**call.get("params", {}))
    except botocore.exceptions.ClientError as error:
        return {"error": error.response.get("Error", {})}
    response.pop("ResponseMetadata", None)
    body = response.pop("Body", None)
    if body is not None and call.get("readBody"):
        response["BodyBase64"] = base64.b64encode(body.read()).decode()
    return response


def main():
    request = json.load(sys.stdin)
    clients = {}
    if "calls" in request:
        results = [call_one(clients, request["endpoint"], request["region"], call) for call in request["calls"]]
        json.dump({"results": results}, sys.stdout, default=str)
    else:
        json.dump(call_one(clients, request["endpoint"], request["region"], request), sys.stdout, default=str)


if __name__ == "__main__":
    main()
