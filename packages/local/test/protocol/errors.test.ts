import { describe, expect, it } from "vitest";
import { AwsServiceError, answerServiceErrors, internalError } from "../../src/protocol/errors";
import { JSON_1_0, JSON_1_1, jsonErrorResponse } from "../../src/protocol/json";
import { queryErrorResponse } from "../../src/protocol/query";
import { restJsonErrorResponse } from "../../src/protocol/rest-json";
import { renderError } from "../../src/protocol/wire";
import { SQS_ERRORS, sqsError } from "../../src/services/sqs/protocol";
import type { ServiceResponse } from "../../src/types";

const REQUEST_ID = "4b1c6a52-0a8e-4c1e-9f0e-2d3c4b5a6f70";

function bodyOf(response: ServiceResponse): unknown {
  return JSON.parse(String(response.body));
}

describe("AwsServiceError", () => {
  it("is a 400 client fault unless told otherwise", () => {
    const error = new AwsServiceError("NotAuthorizedException", "Incorrect username or password.");

    expect(error).toMatchObject({
      code: "NotAuthorizedException",
      message: "Incorrect username or password.",
      status: 400,
      fault: "client",
      fields: {},
      queryCode: undefined,
    });
    expect(error.name).toBe("NotAuthorizedException");
  });

  it("takes the fault from a 5xx status, and a 500 from a server fault", () => {
    expect(new AwsServiceError("ServiceUnavailable", "busy", { status: 503 }).fault).toBe("server");
    expect(new AwsServiceError("InternalError", "bug", { fault: "server" }).status).toBe(500);
    expect(new AwsServiceError("NotFound", "gone", { status: 404 }).fault).toBe("client");
  });

  it("keeps its cause", () => {
    const cause = new Error("disk full");

    expect(new AwsServiceError("InternalFailure", "failed", { cause }).cause).toBe(cause);
  });
});

describe("JSON 1.0/1.1 rendering", () => {
  it("sends __type, message and the headers the service's dialect names", () => {
    const error = new AwsServiceError("UserNotFoundException", "User does not exist.");

    const response = jsonErrorResponse(error, {
      contentType: JSON_1_1,
      headers: ["x-amzn-errortype", "x-amzn-errormessage"],
    });

    expect(response.status).toBe(400);
    expect(response.headers).toEqual({
      "content-type": JSON_1_1,
      "x-amzn-errortype": "UserNotFoundException",
      "x-amzn-errormessage": "User does not exist.",
    });
    expect(bodyOf(response)).toEqual({
      __type: "UserNotFoundException",
      message: "User does not exist.",
    });
  });

  it("leaves the message out of the headers when the dialect does (Kinesis quotes input)", () => {
    const error = new AwsServiceError("ValidationException", "Value 'a\nb' is invalid");

    const response = jsonErrorResponse(error, {
      contentType: JSON_1_1,
      headers: ["x-amzn-errortype"],
    });

    expect(response.headers).toEqual({
      "content-type": JSON_1_1,
      "x-amzn-errortype": "ValidationException",
    });
    expect(bodyOf(response)).toEqual({
      __type: "ValidationException",
      message: "Value 'a\nb' is invalid",
    });
  });

  it("adds the error's extra members to the body", () => {
    const error = new AwsServiceError("ResourceConflictException", "taken", {
      fields: { resourceId: "r-1" },
    });

    const response = jsonErrorResponse(error, { contentType: JSON_1_0, headers: [] });

    expect(bodyOf(response)).toEqual({
      __type: "ResourceConflictException",
      message: "taken",
      resourceId: "r-1",
    });
  });

  it("renders SQS's shape id and legacy query code (awsQueryCompatible)", () => {
    const response = jsonErrorResponse(
      sqsError("QueueDoesNotExist", "The specified queue does not exist."),
      SQS_ERRORS,
    );

    expect(response.status).toBe(400);
    expect(response.headers).toEqual({
      "content-type": JSON_1_0,
      "x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender",
    });
    expect(bodyOf(response)).toEqual({
      __type: "com.amazonaws.sqs#QueueDoesNotExist",
      message: "The specified queue does not exist.",
    });
  });

  it("renders a server fault as a 5xx with Receiver in the query-error header", () => {
    const response = jsonErrorResponse(sqsError("InternalError", "boom", "server"), SQS_ERRORS);

    expect(response.status).toBe(500);
    expect(response.headers?.["x-amzn-query-error"]).toBe("InternalError;Receiver");
  });

  it("gives SQS errors the status their model says", () => {
    expect(sqsError("ReceiptHandleIsInvalid", "bad handle").status).toBe(404);
    expect(sqsError("PurgeQueueInProgress", "wait").status).toBe(403);
    expect(sqsError("InvalidParameterValue", "no").status).toBe(400);
  });
});

describe("query (XML) rendering", () => {
  it("sends a service's ErrorResponse with its namespace, Sender and escaped text", () => {
    const error = new AwsServiceError("NotFound", "Topic <a&b> does not exist", { status: 404 });

    const response = queryErrorResponse(
      error,
      REQUEST_ID,
      "http://sns.amazonaws.com/doc/2010-03-31/",
    );

    expect(response.status).toBe(404);
    expect(response.headers).toEqual({
      "content-type": "text/xml",
      "x-amzn-requestid": REQUEST_ID,
    });
    expect(response.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>' +
        "<Code>NotFound</Code><Message>Topic &lt;a&amp;b&gt; does not exist</Message></Error>" +
        `<RequestId>${REQUEST_ID}</RequestId></ErrorResponse>`,
    );
  });

  it("marks a server fault Receiver, and the edge's document has no namespace", () => {
    const error = new AwsServiceError("InternalError", "bug", { fault: "server" });

    const response = queryErrorResponse(error, REQUEST_ID);

    expect(response.status).toBe(500);
    expect(response.body).toBe(
      "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code>" +
        `<Message>bug</Message></Error><RequestId>${REQUEST_ID}</RequestId></ErrorResponse>`,
    );
  });
});

describe("REST-JSON rendering", () => {
  it("names the code in x-amzn-ErrorType and puts message and extra members in the body", () => {
    const error = new AwsServiceError("ResourceAlreadyExistsException", "name already exists", {
      status: 409,
      fields: { resourceId: "p", resourceArn: "arn:aws:iot:us-east-1:000000000000:policy/p" },
    });

    const response = restJsonErrorResponse(error, REQUEST_ID);

    expect(response.status).toBe(409);
    expect(response.headers).toEqual({
      "content-type": "application/json",
      "x-amzn-errortype": "ResourceAlreadyExistsException",
      "x-amzn-requestid": REQUEST_ID,
    });
    expect(bodyOf(response)).toEqual({
      message: "name already exists",
      resourceId: "p",
      resourceArn: "arn:aws:iot:us-east-1:000000000000:policy/p",
    });
  });
});

describe("the edge's rendering by protocol", () => {
  const error = new AwsServiceError("AccessDeniedException", "refused", { status: 403 });

  it("renders JSON in the service's JSON version, 1.1 when unknown", () => {
    expect(renderError("json", error, REQUEST_ID, "sqs").headers?.["content-type"]).toBe(JSON_1_0);
    const unknown = renderError("json", error, REQUEST_ID);

    expect(unknown.status).toBe(403);
    expect(unknown.headers).toEqual({
      "content-type": JSON_1_1,
      "x-amzn-errortype": "AccessDeniedException",
      "x-amzn-errormessage": "refused",
    });
    expect(bodyOf(unknown)).toEqual({ __type: "AccessDeniedException", message: "refused" });
  });

  it("renders query and REST-JSON with their own renderers", () => {
    expect(String(renderError("query", error, REQUEST_ID).body)).toMatch(
      /^<ErrorResponse><Error><Type>Sender<\/Type><Code>AccessDeniedException<\/Code>/,
    );
    const rest = renderError("rest-json", error, REQUEST_ID, "iot");
    expect(rest.headers?.["x-amzn-errortype"]).toBe("AccessDeniedException");
    expect(bodyOf(rest)).toEqual({ message: "refused" });
  });
});

describe("answerServiceErrors", () => {
  const render = (error: AwsServiceError): ServiceResponse =>
    jsonErrorResponse(error, { contentType: JSON_1_1, headers: ["x-amzn-errortype"] });

  it("renders a thrown AwsServiceError in the service's protocol", async () => {
    const response = await answerServiceErrors({ render }, () => {
      throw new AwsServiceError("ResourceNotFoundException", "Stream s not found.");
    });

    expect(response.status).toBe(400);
    expect(bodyOf(response)).toEqual({
      __type: "ResourceNotFoundException",
      message: "Stream s not found.",
    });
  });

  it("answers an unexpected throw as the service's internal error, 500, message without stack", async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'shards')");

    const response = await answerServiceErrors(
      { render, unexpected: internalError("InternalFailure") },
      () => {
        throw bug;
      },
    );

    expect(response.status).toBe(500);
    expect(response.headers?.["x-amzn-errortype"]).toBe("InternalFailure");
    expect(bodyOf(response)).toEqual({
      __type: "InternalFailure",
      message: "Cannot read properties of undefined (reading 'shards')",
    });
    expect(String(response.body)).not.toContain("at ");
  });

  it("lets an unexpected throw go on to the edge when the service names no internal error", async () => {
    const bug = new Error("boom");

    await expect(
      answerServiceErrors({ render }, () => {
        throw bug;
      }),
    ).rejects.toBe(bug);
  });

  it("passes a successful answer through", async () => {
    const ok: ServiceResponse = { status: 200, body: "{}" };

    expect(await answerServiceErrors({ render }, () => ok)).toBe(ok);
  });
});
