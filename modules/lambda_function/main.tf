locals {
  # Lambda's default log group name; creating it here (with retention and KMS) before the function
  # keeps Lambda from creating an unmanaged one that never expires.
  log_group_name = "/aws/lambda/${var.function_name}"

  # The rollback pin wins over the version this apply publishes. A conditional (not coalesce) keeps
  # the pinned value known at plan time even while a new version is still being published.
  # The checked version (data.aws_lambda_function.deployed), never the function's own attribute: the alias
  # moves only once the CodeSha256 check has passed, and references in both branches make it wait for the
  # check even while a rollback pin is set.
  alias_function_version = var.alias_function_version != null ? var.alias_function_version : data.aws_lambda_function.deployed.version

  # IAM Sids are alphanumeric only.
  policy_statements = { for k, s in var.policy_statements : replace(k, "_", "") => s }

  # scripts/alias_wait.py through local-exec: `interpreter` takes a list (no shell quoting on any OS) and
  # local-exec appends `command` (the alias ARN) last.
  wait_script = "${path.module}/scripts/alias_wait.py"
  wait_interpreter = concat(
    [var.python_executable, local.wait_script, "--timeout", tostring(var.wait_timeout_seconds)],
    var.assume_role_arn == null ? [] : ["--role-arn", var.assume_role_arn],
  )
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
# published version back rather than using aws_lambda_function.this.code_sha256, which the provider keeps at
# its old value in the plan of a code change. With no pending change it is read at plan time, so a clean
# second plan stays empty; otherwise it is read right after the function is applied. The alias takes its
# version from here, so a failed check stops the apply before `live` moves: the bad version is published
# but never served.
data "aws_lambda_function" "deployed" {
  function_name = aws_lambda_function.this.function_name
  qualifier     = aws_lambda_function.this.version

  lifecycle {
    postcondition {
      condition     = self.code_sha256 == var.source_code_hash
      error_message = "${var.function_name}: Lambda reports CodeSha256 ${self.code_sha256} for version ${self.version}, but source_code_hash is ${var.source_code_hash}. The zip that was uploaded is not the one the manifest describes; the ${var.alias_name} alias stays on its previous version. Rebuild with build.py and apply again."
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

  # No routing_config and no ignore_changes on it: this module never sets weights, so a weight that is still
  # there at the next plan (left over, or set outside Terraform) shows as a change that removes it. The
  # transient weights Lambda adds while an alias with provisioned concurrency moves are waited out below
  # before the apply ends, so they are gone when the next plan refreshes.
}

################################################################################
# Provisioned concurrency, with the waits hashicorp/aws 5.x lacks
################################################################################

# Lambda keeps routing weights on an alias with provisioned concurrency while it moves the alias to a new
# version, and PutProvisionedConcurrencyConfig refuses such an alias ("Alias with weights can not be used
# with Provisioned Concurrency", hashicorp/terraform#24957); hashicorp/aws waits for the weights to clear only
# from hashicorp/terraform-provider-aws#48116 on. Runs after every alias move and before every change of the
# count, and fails the apply, naming the alias and its weights, if they outlast wait_timeout_seconds.
resource "terraform_data" "alias_weights_cleared" {
  count = var.provisioned_concurrent_executions > 0 ? 1 : 0

  triggers_replace = {
    alias_arn                         = aws_lambda_alias.live.arn
    function_version                  = aws_lambda_alias.live.function_version
    provisioned_concurrent_executions = var.provisioned_concurrent_executions
  }

  provisioner "local-exec" {
    interpreter = concat(local.wait_interpreter, ["--until", "no-weights"])
    command     = aws_lambda_alias.live.arn
    environment = var.script_environment
  }
}

resource "aws_lambda_provisioned_concurrency_config" "live" {
  count = var.provisioned_concurrent_executions > 0 ? 1 : 0

  function_name                     = aws_lambda_alias.live.function_name
  qualifier                         = aws_lambda_alias.live.name
  provisioned_concurrent_executions = var.provisioned_concurrent_executions

  depends_on = [terraform_data.alias_weights_cleared]
}

# The provider's create and update of the configuration already wait for READY (and fail on FAILED with its
# status reason), but a version move changes no configuration: Lambda re-allocates the environments for the
# new version (IN_PROGRESS) with no Terraform change to wait on. This waits for READY after every change of
# the configuration and, with wait_for_provisioned_concurrency_after_version_move, after every version move,
# so that ready_alias_arn (what the Lex code hook takes) is known only once callers get warm environments.
resource "terraform_data" "provisioned_concurrency_ready" {
  count = var.provisioned_concurrent_executions > 0 ? 1 : 0

  triggers_replace = merge(
    {
      configuration                     = aws_lambda_provisioned_concurrency_config.live[0].id
      provisioned_concurrent_executions = aws_lambda_provisioned_concurrency_config.live[0].provisioned_concurrent_executions
    },
    var.wait_for_provisioned_concurrency_after_version_move ? { function_version = aws_lambda_alias.live.function_version } : {},
  )

  provisioner "local-exec" {
    interpreter = concat(local.wait_interpreter, ["--until", "ready"])
    command     = aws_lambda_alias.live.arn
    environment = var.script_environment
  }
}
