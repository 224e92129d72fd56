data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  failed_leads_table_name = split("/", var.failed_leads_table_arn)[1]

  # User templates and the module's own file are rendered the same way: each known `${name}` is replaced
  # verbatim and nothing else is interpreted, so ASL paths such as `$.lead` and `$$.Execution.Name` need
  # no escaping and a definition exported from the Step Functions console works as it is.
  definition_template = var.definition_template != null ? var.definition_template : file("${path.module}/templates/atlas_engine_workflow.asl.json.tftpl")

  definition_placeholders = {
    create_lead_arn               = var.function_alias_arns.create_lead
    generate_dynamic_scenario_arn = var.function_alias_arns.generate_dynamic_scenario
    invoke_outbound_call_arn      = var.function_alias_arns.invoke_outbound_call
    update_lead_arn               = var.function_alias_arns.update_lead
    failed_leads_table_name       = local.failed_leads_table_name
    partition                     = local.partition
  }

  definition = replace(replace(replace(replace(replace(replace(local.definition_template,
    "$${create_lead_arn}", local.definition_placeholders.create_lead_arn),
    "$${generate_dynamic_scenario_arn}", local.definition_placeholders.generate_dynamic_scenario_arn),
    "$${invoke_outbound_call_arn}", local.definition_placeholders.invoke_outbound_call_arn),
    "$${update_lead_arn}", local.definition_placeholders.update_lead_arn),
    "$${failed_leads_table_name}", local.definition_placeholders.failed_leads_table_name),
  "$${partition}", local.definition_placeholders.partition)

  # The only functions the role may invoke: the four aliases, whatever the definition names.
  lambda_invoke_arns = sort(distinct(values(var.function_alias_arns)))

  unfilled_placeholders = distinct(regexall("\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}", local.definition))

  log_group_name = "/aws/vendedlogs/states/${var.name}"

  # IAM role names stop at 64 characters; long state machine names keep a hash so two never collide.
  role_name = length(var.name) <= 60 ? "${var.name}-sfn" : "${substr(var.name, 0, 51)}-${substr(sha1(var.name), 0, 8)}-sfn"
}

################################################################################
# Execution logs
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:A customer managed key is optional (var.kms_key_arn); without one CloudWatch Logs encrypts with an AWS owned key.
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (var.log_retention_in_days); execution data is not logged, so a year's retention is not needed for these events.
  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

################################################################################
# IAM role Step Functions assumes
################################################################################

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "StepFunctionsAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    # Confused-deputy guard: only state machines in this account and region may use the role.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:*"]
    }
  }
}

data "aws_iam_policy_document" "permissions" {
  statement {
    sid       = "InvokeLiveAliases"
    actions   = ["lambda:InvokeFunction"]
    resources = local.lambda_invoke_arns
  }

  statement {
    sid       = "RecordFailedLeads"
    actions   = ["dynamodb:PutItem"]
    resources = [var.failed_leads_table_arn]
  }

  # X-Ray write actions take no resource-level permissions.
  # https://docs.aws.amazon.com/step-functions/latest/dg/xray-iam.html
  statement {
    sid = "XRayTracing"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
    ]
    resources = ["*"]
  }

  # Vended-log delivery actions do not support resource-level permissions, so Step Functions logging
  # requires "*": https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
  statement {
    sid = "ExecutionLogDelivery"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role" "sfn" {
  name               = local.role_name
  description        = "Execution role of the ${var.name} state machine"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "sfn" {
  name   = "workflow"
  role   = aws_iam_role.sfn.id
  policy = data.aws_iam_policy_document.permissions.json
}

################################################################################
# State machine
################################################################################

resource "aws_sfn_state_machine" "this" {
  #checkov:skip=CKV_AWS_285:Execution logging is on (level = var.log_level); only include_execution_data is off, because execution input and output carry lead PII.
  name       = var.name
  role_arn   = aws_iam_role.sfn.arn
  definition = local.definition
  type       = "STANDARD"

  logging_configuration {
    log_destination = "${aws_cloudwatch_log_group.this.arn}:*"
    level           = var.log_level
    # Execution input and output carry the lead's name, phone and email.
    include_execution_data = false
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = can(jsondecode(local.definition))
      error_message = "The rendered state machine definition is not valid JSON. Check definition_template: placeholders such as $${create_lead_arn} must sit inside JSON strings."
    }

    precondition {
      condition     = can(jsondecode(local.definition).StartAt) && can(jsondecode(local.definition).States)
      error_message = "The rendered state machine definition needs StartAt and States (Amazon States Language, https://states-language.net/spec.html)."
    }

    precondition {
      condition     = length(local.unfilled_placeholders) == 0
      error_message = "definition_template has placeholders this module does not fill: ${join(", ", local.unfilled_placeholders)}. Known placeholders: $${create_lead_arn}, $${generate_dynamic_scenario_arn}, $${invoke_outbound_call_arn}, $${update_lead_arn}, $${failed_leads_table_name}, $${partition}."
    }
  }

  depends_on = [aws_iam_role_policy.sfn]
}
