locals {
  # Lambda's default log group name; creating it here (with retention and KMS) before the function
  # keeps Lambda from creating an unmanaged one that never expires.
  log_group_name = "/aws/lambda/${var.function_name}"

  # The rollback pin wins over the version this apply publishes. A conditional (not coalesce) keeps
  # the pinned value known at plan time even while a new version is still being published.
  alias_function_version = var.alias_function_version != null ? var.alias_function_version : aws_lambda_function.this.version

  # IAM Sids are alphanumeric only.
  policy_statements = { for k, s in var.policy_statements : replace(k, "_", "") => s }
}

################################################################################
# Execution role: own log group, X-Ray, and exactly the given statements
################################################################################

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "lambda" {
  statement {
    sid    = "WriteOwnLogGroup"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    # Log streams are arn:...:log-group:NAME:log-stream:STREAM; the provider strips the API's ":*".
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  statement {
    sid    = "WriteXRayTraces"
    effect = "Allow"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
    ]
    # X-Ray write actions support no resource-level permissions (Service Authorization Reference).
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = local.policy_statements

    content {
      sid       = statement.key
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role" "lambda" {
  name                 = coalesce(var.role_name, var.function_name)
  description          = "Execution role of the ${var.function_name} Lambda function"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy" "lambda" {
  name   = "least-privilege"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

################################################################################
# Log group
################################################################################

resource "aws_cloudwatch_log_group" "lambda" {
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice via log_retention_in_days (CloudWatch's list, up to 10 years); turn logs of a chatty voice bot are not kept a year by default.
  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

################################################################################
# Function: every apply that changes code or configuration publishes a version
################################################################################

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:No VPC: the function calls Bedrock, Salesforce and Connect over public endpoints; a VPC would add NAT cost and cold-start latency.
  #checkov:skip=CKV_AWS_116:No DLQ: invoked synchronously by Lex and Step Functions, which receive and handle the error; DLQs apply to asynchronous invocations only.
  #checkov:skip=CKV_AWS_272:Code signing is optional; the zip is built reproducibly by build.py and pinned by source_code_hash.
  #checkov:skip=CKV_AWS_173:Environment variables hold configuration only (ARNs, names, numbers), never secrets; a customer managed key is optional via kms_key_arn.
  #checkov:skip=CKV_AWS_115:A concurrency limit is optional via reserved_concurrent_executions (-1 by default so the account pool is not partitioned).
  function_name    = var.function_name
  description      = var.description
  role             = aws_iam_role.lambda.arn
  filename         = var.filename
  source_code_hash = var.source_code_hash
  handler          = var.handler
  runtime          = var.runtime
  architectures    = [var.architecture]
  memory_size      = var.memory_size
  timeout          = var.timeout
  publish          = true

  reserved_concurrent_executions = var.reserved_concurrent_executions
  kms_key_arn                    = var.kms_key_arn
  tags                           = var.tags

  dynamic "environment" {
    # An empty Variables map reads back as no block at all, which would be a perpetual diff.
    for_each = length(var.environment_variables) > 0 ? [var.environment_variables] : []

    content {
      variables = environment.value
    }
  }

  tracing_config {
    mode = var.tracing_mode
  }

  dynamic "logging_config" {
    for_each = var.log_format == null ? [] : [var.log_format]

    content {
      log_format = logging_config.value
      log_group  = aws_cloudwatch_log_group.lambda.name
    }
  }

  dynamic "snap_start" {
    for_each = var.snap_start ? ["PublishedVersions"] : []

    content {
      apply_on = snap_start.value
    }
  }

  lifecycle {
    precondition {
      condition     = !(var.snap_start && var.provisioned_concurrent_executions > 0)
      error_message = "${var.function_name}: SnapStart and provisioned concurrency cannot be used together on one function version. Set snap_start = false or provisioned_concurrent_executions = 0."
    }

    precondition {
      condition     = var.reserved_concurrent_executions < 0 || var.provisioned_concurrent_executions <= var.reserved_concurrent_executions
      error_message = "${var.function_name}: provisioned_concurrent_executions (${var.provisioned_concurrent_executions}) cannot exceed reserved_concurrent_executions (${var.reserved_concurrent_executions})."
    }
  }

  # The log group must exist before Lambda's first write, or Lambda creates an unmanaged one; the
  # role's policy must exist before the first invocation can log or trace.
  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}

# Lambda reports CodeSha256 as the base64 SHA-256 of the zip, the value build.py writes to the
# manifest, so a mismatch means the zip on disk is not the one the manifest describes. This reads the
# function back rather than using aws_lambda_function.this.code_sha256, which the provider keeps at
# its old value in the plan of a code change. With no pending change it is read at plan time, so a
# clean second plan stays empty; otherwise it is read right after the function is applied.
data "aws_lambda_function" "deployed" {
  function_name = aws_lambda_function.this.function_name

  lifecycle {
    postcondition {
      condition     = self.code_sha256 == var.source_code_hash
      error_message = "${var.function_name}: Lambda reports CodeSha256 ${self.code_sha256}, but source_code_hash is ${var.source_code_hash}. The zip that was uploaded is not the one the manifest describes: rebuild with build.py and apply again."
    }
  }
}

################################################################################
# Alias: the stable, qualified ARN that Lex and Step Functions invoke
################################################################################

resource "aws_lambda_alias" "live" {
  name             = var.alias_name
  description      = "Qualified ARN that Lex and Step Functions invoke; follows each published version unless alias_function_version pins it"
  function_name    = aws_lambda_function.this.function_name
  function_version = local.alias_function_version

  lifecycle {
    # This module never sets weighted routing (see README). While an alias with provisioned
    # concurrency moves to a new version, Lambda briefly adds routing weights, which provider 5.x can
    # read back as drift (hashicorp/terraform-provider-aws#48116); ignoring them keeps plans empty.
    ignore_changes = [routing_config]
  }
}

resource "aws_lambda_provisioned_concurrency_config" "live" {
  count = var.provisioned_concurrent_executions > 0 ? 1 : 0

  function_name                     = aws_lambda_alias.live.function_name
  qualifier                         = aws_lambda_alias.live.name
  provisioned_concurrent_executions = var.provisioned_concurrent_executions
}
