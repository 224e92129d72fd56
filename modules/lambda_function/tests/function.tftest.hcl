# The function, its role, log group, live alias and provisioned concurrency, planned and applied with a mocked
# AWS provider. Computed values that assertions compare are given realistic shapes below; everything else is
# the mock's random strings.

mock_provider "aws" {
  # The mock cannot render policy JSON; assertions read the documents' statements instead.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-west-2:123456789012:log-group:/aws/lambda/dev-LexFulfillmentHandler"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/dev-LexFulfillmentHandler"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn         = "arn:aws:lambda:us-west-2:123456789012:function:dev-LexFulfillmentHandler"
      version     = "7"
      code_sha256 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
    }
  }

  mock_resource "aws_lambda_alias" {
    defaults = {
      arn = "arn:aws:lambda:us-west-2:123456789012:function:dev-LexFulfillmentHandler:live"
    }
  }

  # What Lambda reports as CodeSha256 once the zip is uploaded: the manifest's hash.
  mock_data "aws_lambda_function" {
    defaults = {
      code_sha256 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
      version     = "7"
    }
  }
}

variables {
  # The deploy waits record their arguments instead of calling AWS (tests/record_wait.sh).
  python_executable  = abspath("tests/record_wait.sh")
  script_environment = { ALIAS_WAIT_DIR = abspath(".terraform/alias_wait/function"), ALIAS_WAIT_RUN = "function" }
  function_name      = "dev-LexFulfillmentHandler"
  description        = "Lex V2 code hook"
  filename           = "dist/LexFulfillmentHandler.zip"
  source_code_hash   = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
  handler            = "lambda_function.lambda_handler"
  runtime            = "python3.12"
  architecture       = "x86_64"
  memory_size        = 512
  timeout            = 30
  environment_variables = {
    LOG_LEVEL          = "INFO"
    BEDROCK_MAX_TOKENS = "150"
  }
  provisioned_concurrent_executions = 1
  policy_statements = {
    salesforce_secret = {
      actions   = ["secretsmanager:GetSecretValue"]
      resources = ["arn:aws:secretsmanager:us-west-2:123456789012:secret:atlas/salesforce-AbCdEf"]
    }
    scenario_table = {
      actions   = ["dynamodb:GetItem"]
      resources = ["arn:aws:dynamodb:us-west-2:123456789012:table/AtlasEngineScenarios"]
    }
  }
  log_retention_in_days = 30
  tags = {
    Application = "AtlasEngine"
  }
}

run "function_configuration" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.publish == true
    error_message = "Every apply that changes the function must publish a version for the alias."
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing must be Active by default."
  }

  assert {
    condition = (
      aws_lambda_function.this.memory_size == 512 &&
      aws_lambda_function.this.timeout == 30 &&
      aws_lambda_function.this.runtime == "python3.12" &&
      aws_lambda_function.this.architectures == tolist(["x86_64"]) &&
      aws_lambda_function.this.handler == "lambda_function.lambda_handler"
    )
    error_message = "memory, timeout, runtime, architecture and handler must come from the variables."
  }

  assert {
    condition = (
      aws_lambda_function.this.filename == "dist/LexFulfillmentHandler.zip" &&
      aws_lambda_function.this.source_code_hash == "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
    )
    error_message = "The code must come from the manifest's zip and base64 SHA-256."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ LOG_LEVEL = "INFO", BEDROCK_MAX_TOKENS = "150" })
    error_message = "environment_variables must reach the function unchanged."
  }

  assert {
    condition = (
      length(aws_lambda_function.this.logging_config) == 1 &&
      aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/dev-LexFulfillmentHandler" &&
      aws_lambda_function.this.logging_config[0].log_format == "Text"
    )
    error_message = "logging_config must point at the module's own log group, in Text format."
  }

  assert {
    condition     = length(aws_lambda_function.this.snap_start) == 0
    error_message = "SnapStart must be off unless asked for."
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == -1 && aws_lambda_function.this.kms_key_arn == null
    error_message = "Reserved concurrency and a customer managed key must be off by default."
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.lambda.name == "/aws/lambda/dev-LexFulfillmentHandler" &&
      aws_cloudwatch_log_group.lambda.retention_in_days == 30 &&
      aws_cloudwatch_log_group.lambda.kms_key_id == null
    )
    error_message = "The log group must be Lambda's default name with the given retention."
  }

  assert {
    condition     = aws_lambda_alias.live.name == "live"
    error_message = "The alias must be named live."
  }

  assert {
    condition     = aws_lambda_provisioned_concurrency_config.live[0].provisioned_concurrent_executions == 1
    error_message = "Provisioned concurrency must be configured with the requested count."
  }

  assert {
    condition = (
      aws_lambda_provisioned_concurrency_config.live[0].qualifier == aws_lambda_alias.live.name &&
      aws_lambda_provisioned_concurrency_config.live[0].qualifier == "live" &&
      aws_lambda_provisioned_concurrency_config.live[0].function_name == "dev-LexFulfillmentHandler"
    )
    error_message = "Provisioned concurrency must target the live alias, never a version number or $LATEST."
  }

  assert {
    condition     = aws_iam_role.lambda.name == "dev-LexFulfillmentHandler" && aws_iam_role.lambda.permissions_boundary == null
    error_message = "The role is named after the function unless role_name is given."
  }
}

run "applied" {
  command = apply

  assert {
    condition     = aws_lambda_alias.live.function_version == aws_lambda_function.this.version && output.alias_function_version == "7"
    error_message = "Without a pin the alias must point at the version this apply published."
  }

  assert {
    condition     = output.published_version == "7" && output.alias_function_version != "$LATEST"
    error_message = "published_version must be the function's latest published version, and the alias never $LATEST."
  }

  assert {
    condition     = output.alias_arn == "arn:aws:lambda:us-west-2:123456789012:function:dev-LexFulfillmentHandler:live" && endswith(output.alias_arn, ":live")
    error_message = "alias_arn must be the qualified ARN ending in :live."
  }

  assert {
    condition     = output.provisioned_concurrent_executions == 1
    error_message = "The provisioned_concurrent_executions output must report the alias's configuration."
  }

  assert {
    condition = (
      output.function_name == "dev-LexFulfillmentHandler" &&
      output.alias_name == "live" &&
      output.log_group_name == "/aws/lambda/dev-LexFulfillmentHandler" &&
      output.role_arn == "arn:aws:iam::123456789012:role/dev-LexFulfillmentHandler" &&
      output.function_arn == "arn:aws:lambda:us-west-2:123456789012:function:dev-LexFulfillmentHandler"
    )
    error_message = "Outputs must report the function, alias, log group and role."
  }

  assert {
    condition     = data.aws_lambda_function.deployed.code_sha256 == var.source_code_hash
    error_message = "The read-back CodeSha256 must equal source_code_hash (the postcondition guards this)."
  }
}

run "least_privilege_policy" {
  command = apply

  assert {
    condition = [for s in data.aws_iam_policy_document.lambda.statement : s.sid] == [
      "WriteOwnLogGroup", "WriteXRayTraces", "salesforcesecret", "scenariotable",
    ]
    error_message = "The role must have exactly: own log group, X-Ray, and the given statements (Sids from the keys)."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.lambda.statement[0].resources == toset(["arn:aws:logs:us-west-2:123456789012:log-group:/aws/lambda/dev-LexFulfillmentHandler:*"]) &&
      data.aws_iam_policy_document.lambda.statement[0].actions == toset(["logs:CreateLogStream", "logs:PutLogEvents"])
    )
    error_message = "Logs permissions must be limited to the function's own log group's streams, never logs:* or *."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.lambda.statement[1].actions == toset(["xray:PutTraceSegments", "xray:PutTelemetryRecords"]) &&
      data.aws_iam_policy_document.lambda.statement[1].resources == toset(["*"])
    )
    error_message = "X-Ray write needs exactly PutTraceSegments and PutTelemetryRecords (no resource-level permissions exist)."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.lambda.statement[2].actions == toset(["secretsmanager:GetSecretValue"]) &&
      data.aws_iam_policy_document.lambda.statement[2].resources == toset(["arn:aws:secretsmanager:us-west-2:123456789012:secret:atlas/salesforce-AbCdEf"]) &&
      data.aws_iam_policy_document.lambda.statement[3].actions == toset(["dynamodb:GetItem"]) &&
      data.aws_iam_policy_document.lambda.statement[3].resources == toset(["arn:aws:dynamodb:us-west-2:123456789012:table/AtlasEngineScenarios"])
    )
    error_message = "Given statements must reach the policy exactly as given."
  }

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.lambda.statement : s.effect == "Allow"])
    error_message = "Every statement is an Allow."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.assume_role.statement[0].actions == toset(["sts:AssumeRole"]) &&
      [for p in data.aws_iam_policy_document.assume_role.statement[0].principals : p.identifiers] == [toset(["lambda.amazonaws.com"])]
    )
    error_message = "Only the Lambda service may assume the execution role."
  }
}

run "no_provisioned_concurrency_at_zero" {
  command = plan

  variables {
    provisioned_concurrent_executions = 0
  }

  assert {
    condition     = length(aws_lambda_provisioned_concurrency_config.live) == 0
    error_message = "0 must mean no provisioned concurrency configuration at all."
  }

  assert {
    condition     = output.provisioned_concurrent_executions == 0
    error_message = "The output must report 0 when none is configured."
  }
}

run "snap_start_without_provisioned_concurrency" {
  command = plan

  variables {
    provisioned_concurrent_executions = 0
    snap_start                        = true
  }

  assert {
    condition     = aws_lambda_function.this.snap_start[0].apply_on == "PublishedVersions"
    error_message = "SnapStart must apply to published versions."
  }
}

run "empty_environment_sends_no_block" {
  command = plan

  variables {
    environment_variables = {}
  }

  assert {
    condition     = length(aws_lambda_function.this.environment) == 0
    error_message = "An empty environment must send no Environment block (it would read back as a perpetual diff)."
  }
}

run "overrides" {
  command = plan

  variables {
    memory_size                    = 1024
    timeout                        = 60
    runtime                        = "python3.13"
    architecture                   = "arm64"
    tracing_mode                   = "PassThrough"
    reserved_concurrent_executions = 5
    log_retention_in_days          = 365
    kms_key_arn                    = "arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555"
    role_name                      = "dev-LexFulfillmentHandler-us-west-2"
    role_permissions_boundary      = "arn:aws:iam::123456789012:policy/boundary"
    log_format                     = "JSON"
    alias_name                     = "current"
  }

  assert {
    condition = (
      aws_lambda_function.this.memory_size == 1024 &&
      aws_lambda_function.this.timeout == 60 &&
      aws_lambda_function.this.runtime == "python3.13" &&
      aws_lambda_function.this.architectures == tolist(["arm64"]) &&
      aws_lambda_function.this.tracing_config[0].mode == "PassThrough" &&
      aws_lambda_function.this.reserved_concurrent_executions == 5 &&
      aws_lambda_function.this.logging_config[0].log_format == "JSON"
    )
    error_message = "Function settings must follow the variables."
  }

  assert {
    condition = (
      aws_lambda_function.this.kms_key_arn == "arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555" &&
      aws_cloudwatch_log_group.lambda.kms_key_id == "arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555" &&
      aws_cloudwatch_log_group.lambda.retention_in_days == 365
    )
    error_message = "kms_key_arn must encrypt both the environment and the log group."
  }

  assert {
    condition     = aws_iam_role.lambda.name == "dev-LexFulfillmentHandler-us-west-2" && aws_iam_role.lambda.permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"
    error_message = "role_name and role_permissions_boundary must reach the role."
  }

  assert {
    condition     = aws_lambda_alias.live.name == "current" && aws_lambda_provisioned_concurrency_config.live[0].qualifier == "current"
    error_message = "Provisioned concurrency must follow the alias whatever its name."
  }
}

run "emulator_without_logging_config" {
  command = plan

  variables {
    log_format = null
  }

  assert {
    condition     = length(aws_lambda_function.this.logging_config) == 0
    error_message = "log_format = null must send no LoggingConfig (Lambda's default is the same log group)."
  }
}
