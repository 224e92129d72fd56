# Plan-level tests of the workflow module with a mocked AWS provider: the state machine's wiring (tracing,
# logging, alias ARNs in every Lambda task, retries and catches), its IAM policy, and the definition_template path.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "us-west-2"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  # The policies' content is asserted on the documents' statements; the role only needs valid JSON here.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_iam_role" {
    override_during = plan
    defaults = {
      id  = "test-AtlasEngineWorkflow-sfn"
      arn = "arn:aws:iam::123456789012:role/test-AtlasEngineWorkflow-sfn"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    override_during = plan
    defaults = {
      arn = "arn:aws:logs:us-west-2:123456789012:log-group:/aws/vendedlogs/states/test-AtlasEngineWorkflow"
    }
  }
}

variables {
  name = "test-AtlasEngineWorkflow"
  function_alias_arns = {
    create_lead               = "arn:aws:lambda:us-west-2:123456789012:function:test-CreateLeadHandler:live"
    generate_dynamic_scenario = "arn:aws:lambda:us-west-2:123456789012:function:test-GenerateDynamicScenarioHandler:live"
    invoke_outbound_call      = "arn:aws:lambda:us-west-2:123456789012:function:test-InvokeOutboundCallHandler:live"
    update_lead               = "arn:aws:lambda:us-west-2:123456789012:function:test-UpdateLeadHandler:live"
  }
  failed_leads_table_arn = "arn:aws:dynamodb:us-west-2:123456789012:table/test-scenarios"
  log_level              = "ERROR"
  log_retention_in_days  = 14
}

run "state_machine_is_traced_and_logged" {
  command = plan

  assert {
    condition     = aws_sfn_state_machine.this.type == "STANDARD"
    error_message = "The workflow must be a STANDARD state machine."
  }

  assert {
    condition     = length(aws_sfn_state_machine.this.tracing_configuration) == 1 && aws_sfn_state_machine.this.tracing_configuration[0].enabled == true
    error_message = "X-Ray tracing must be enabled on the state machine (Task 5)."
  }

  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].level == "ERROR"
    error_message = "The logging level must be var.log_level."
  }

  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].include_execution_data == false
    error_message = "Execution data holds lead PII and must not be logged."
  }

  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].log_destination == "arn:aws:logs:us-west-2:123456789012:log-group:/aws/vendedlogs/states/test-AtlasEngineWorkflow:*"
    error_message = "Logs must go to the module's log group (ARN with the :* suffix Step Functions requires)."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/vendedlogs/states/test-AtlasEngineWorkflow" && aws_cloudwatch_log_group.this.retention_in_days == 14
    error_message = "The log group must be /aws/vendedlogs/states/<name> with the given retention."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == null
    error_message = "No KMS key was given, so the log group must not name one."
  }

  assert {
    condition     = output.state_machine_tracing_enabled == true && output.state_machine_logging_configuration.level == "ERROR" && output.state_machine_logging_configuration.include_execution_data == false
    error_message = "The tracing and logging outputs must reflect the state machine."
  }

  assert {
    condition     = output.log_group_name == "/aws/vendedlogs/states/test-AtlasEngineWorkflow"
    error_message = "log_group_name output is wrong."
  }
}

run "lambda_tasks_invoke_the_live_aliases" {
  command = plan

  assert {
    condition = alltrue([
      for s in values(jsondecode(output.definition).States) : endswith(s.Resource, ":live")
      if s.Type == "Task" && strcontains(try(s.Resource, ""), ":lambda:")
    ])
    error_message = "Every Lambda task's Resource must be a live alias ARN."
  }

  assert {
    condition = (
      jsondecode(output.definition).States.CreateLead.Resource == var.function_alias_arns.create_lead &&
      jsondecode(output.definition).States.GenerateDynamicScenario.Resource == var.function_alias_arns.generate_dynamic_scenario &&
      jsondecode(output.definition).States.InvokeOutboundCall.Resource == var.function_alias_arns.invoke_outbound_call &&
      jsondecode(output.definition).States.UpdateLead.Resource == var.function_alias_arns.update_lead &&
      jsondecode(output.definition).States.RecordFailureOnLead.Resource == var.function_alias_arns.update_lead
    )
    error_message = "Each task must invoke its own function's alias ARN."
  }

  assert {
    condition = toset([
      for s in values(jsondecode(output.definition).States) : s.Resource
      if s.Type == "Task" && strcontains(try(s.Resource, ""), ":lambda:")
    ]) == toset(values(var.function_alias_arns))
    error_message = "The Lambda tasks must use exactly the four alias ARNs."
  }

  assert {
    condition     = aws_sfn_state_machine.this.definition == output.definition
    error_message = "The state machine must be given the rendered definition."
  }

  assert {
    condition     = jsondecode(output.definition).StartAt == "CreateLead" && jsondecode(output.definition).States.CreateLead.Next == "CheckLeadCreated" && jsondecode(output.definition).States.CheckLeadCreated.Choices[0].Next == "GenerateDynamicScenario" && jsondecode(output.definition).States.GenerateDynamicScenario.Next == "CheckScenarioStored" && jsondecode(output.definition).States.CheckScenarioStored.Choices[0].Next == "InvokeOutboundCall" && jsondecode(output.definition).States.InvokeOutboundCall.Next == "UpdateLead" && jsondecode(output.definition).States.UpdateLead.Next == "Succeeded"
    error_message = "The happy path must be CreateLead -> GenerateDynamicScenario -> InvokeOutboundCall -> UpdateLead -> Succeeded."
  }

  assert {
    condition     = jsondecode(output.definition).States.CreateLead.Parameters["idempotency_key.$"] == "$$.Execution.Name"
    error_message = "CreateLead must receive the execution name as its idempotency key."
  }
}

run "lambda_tasks_retry_and_catch" {
  command = plan

  assert {
    condition = alltrue([
      for s in values(jsondecode(output.definition).States) : (
        contains(flatten([for r in try(s.Retry, []) : r.ErrorEquals]), "Lambda.ServiceException") &&
        contains(flatten([for r in try(s.Retry, []) : r.ErrorEquals]), "Lambda.AWSLambdaException") &&
        contains(flatten([for r in try(s.Retry, []) : r.ErrorEquals]), "Lambda.SdkClientException") &&
        contains(flatten([for r in try(s.Retry, []) : r.ErrorEquals]), "Lambda.TooManyRequestsException")
      ) if s.Type == "Task" && strcontains(try(s.Resource, ""), ":lambda:")
    ])
    error_message = "Every Lambda task must retry Lambda service errors and throttling."
  }

  assert {
    condition = alltrue(flatten([
      for s in values(jsondecode(output.definition).States) : [
        for r in try(s.Retry, []) : r.JitterStrategy == "FULL" && r.BackoffRate > 1 && r.IntervalSeconds >= 1 && r.MaxAttempts >= 1
      ] if s.Type == "Task"
    ]))
    error_message = "Every retrier must back off exponentially with full jitter."
  }

  assert {
    condition = alltrue([
      for s in values(jsondecode(output.definition).States) : anytrue([for c in try(s.Catch, []) : contains(c.ErrorEquals, "States.ALL")])
      if s.Type == "Task"
    ])
    error_message = "Every task must catch States.ALL so no lead is lost."
  }

  assert {
    condition = alltrue([
      for name in ["CreateLead", "GenerateDynamicScenario", "InvokeOutboundCall", "UpdateLead"] :
      jsondecode(output.definition).States[jsondecode(output.definition).States[name].Catch[0].Next].Next == "CheckErrorCause"
    ])
    error_message = "Each step's catch must lead to the failed-lead recording path."
  }

  assert {
    condition = length(setintersection(
      toset(flatten([for r in jsondecode(output.definition).States.CreateLead.Retry : r.ErrorEquals])),
      toset(["States.ALL", "States.TaskFailed", "Lambda.Unknown", "States.Timeout", "Lambda.ClientExecutionTimeoutException"])
    )) == 0
    error_message = "CreateLead must not be retried on handler errors or timeouts (it could create a duplicate Lead)."
  }

  assert {
    condition = length(setintersection(
      toset(flatten([for r in jsondecode(output.definition).States.InvokeOutboundCall.Retry : r.ErrorEquals])),
      toset(["States.ALL", "States.TaskFailed", "Lambda.Unknown", "States.Timeout", "Lambda.ClientExecutionTimeoutException"])
    )) == 0
    error_message = "InvokeOutboundCall must not be retried on handler errors or timeouts (it could dial the lead twice)."
  }

  assert {
    condition = alltrue([
      for name in ["CreateLead", "InvokeOutboundCall", "UpdateLead", "RecordFailureOnLead"] : (
        contains(flatten([for r in jsondecode(output.definition).States[name].Retry : r.ErrorEquals]), "IdempotencyInProgressError") &&
        contains(flatten([for r in jsondecode(output.definition).States[name].Retry : r.ErrorEquals]), "IdempotencyStoreError")
      )
    ])
    error_message = "The tasks with an idempotency record must retry IdempotencyInProgressError (a retry picks up the first delivery's result) and IdempotencyStoreError (nothing was done)."
  }
}

run "failed_leads_are_recorded" {
  command = plan

  assert {
    condition     = jsondecode(output.definition).States.RecordFailedLead.Resource == "arn:aws:states:::dynamodb:putItem"
    error_message = "Failed leads must be written with the DynamoDB PutItem integration."
  }

  assert {
    condition     = jsondecode(output.definition).States.RecordFailedLead.Parameters.TableName == "test-scenarios"
    error_message = "RecordFailedLead must write to the failed-leads table named by failed_leads_table_arn."
  }

  assert {
    condition = (
      jsondecode(output.definition).States.RecordFailedLead.Parameters.Item.PK["S.$"] == "States.Format('FAILED_LEAD#{}', $$.Execution.Name)" &&
      jsondecode(output.definition).States.RecordFailedLead.Parameters.Item.SK.S == "FAILURE" &&
      jsondecode(output.definition).States.RecordFailedLead.Parameters.Item.Input["S.$"] == "States.JsonToString($$.Execution.Input)"
    )
    error_message = "The failed-lead item must be PK = FAILED_LEAD#<execution name>, SK = FAILURE, with the original input as a JSON string."
  }

  assert {
    condition = alltrue([for attr in ["Error", "Cause", "FailedStep", "FailedAt"] :
      contains(keys(jsondecode(output.definition).States.RecordFailedLead.Parameters.Item), attr)
    ])
    error_message = "The failed-lead item must carry the error, cause, failed step and timestamp."
  }

  assert {
    condition     = jsondecode(output.definition).States.WorkflowFailed.Type == "Fail" && jsondecode(output.definition).States.CheckLeadExists.Default == "WorkflowFailed" && jsondecode(output.definition).States.CheckLeadExists.Choices[0].Next == "RecordFailureOnLead"
    error_message = "After recording, a created Lead gets a failure outcome and the execution fails."
  }

  assert {
    condition     = jsondecode(output.definition).States.RecordFailureOnLead.Parameters.outcome == "WORKFLOW_FAILED"
    error_message = "RecordFailureOnLead must send a failure outcome to UpdateLead."
  }
}

run "role_may_invoke_only_the_aliases" {
  command = plan

  assert {
    condition = toset(one([
      for s in data.aws_iam_policy_document.permissions.statement : s.resources if contains(s.actions, "lambda:InvokeFunction")
    ])) == toset(values(var.function_alias_arns))
    error_message = "lambda:InvokeFunction must be granted on exactly the four alias ARNs."
  }

  assert {
    condition     = output.role_lambda_invoke_arns == sort(values(var.function_alias_arns))
    error_message = "role_lambda_invoke_arns must list exactly the four alias ARNs."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.permissions.statement : [
        for r in s.resources : r != "*" && !strcontains(r, "*")
      ] if contains(s.actions, "lambda:InvokeFunction")
    ]))
    error_message = "lambda:InvokeFunction must not use wildcards."
  }

  assert {
    condition = one([
      for s in data.aws_iam_policy_document.permissions.statement : s.resources if contains(s.actions, "dynamodb:PutItem")
    ]) == toset(["arn:aws:dynamodb:us-west-2:123456789012:table/test-scenarios"])
    error_message = "dynamodb:PutItem must be granted on the failed-leads table only."
  }

  assert {
    condition = length(setsubtract(
      toset(["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]),
      toset(flatten([for s in data.aws_iam_policy_document.permissions.statement : s.actions]))
    )) == 0
    error_message = "The role needs the X-Ray actions Step Functions tracing uses."
  }

  assert {
    condition = length(setsubtract(
      toset(["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"]),
      toset(flatten([for s in data.aws_iam_policy_document.permissions.statement : s.actions]))
    )) == 0
    error_message = "The role needs the CloudWatch Logs delivery actions Step Functions logging uses."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.assume_role.statement : anytrue([
        for c in s.condition : c.variable == "aws:SourceAccount" && c.values == tolist(["123456789012"])
      ])
    ])
    error_message = "The trust policy must be limited to this account with aws:SourceAccount."
  }

  assert {
    condition     = aws_iam_role_policy.sfn.role == aws_iam_role.sfn.id && aws_sfn_state_machine.this.role_arn == aws_iam_role.sfn.arn
    error_message = "The policy must be on the role the state machine runs as."
  }

  assert {
    condition     = aws_iam_role.sfn.name == "test-AtlasEngineWorkflow-sfn"
    error_message = "The role must be named <name>-sfn."
  }
}

run "long_names_keep_role_names_within_64_characters" {
  command = plan

  variables {
    name = "a-very-long-environment-prefix-AtlasEngineWorkflow-with-a-suffix-x"
  }

  assert {
    condition     = length(aws_iam_role.sfn.name) <= 64 && endswith(aws_iam_role.sfn.name, "-sfn")
    error_message = "IAM role names are limited to 64 characters."
  }
}

run "custom_definition_template_is_filled" {
  command = plan

  variables {
    definition_template = <<-EOT
      {
        "Comment": "custom: table $${failed_leads_table_name} in $${partition}",
        "StartAt": "One",
        "States": {
          "One": {"Type": "Task", "Resource": "$${create_lead_arn}", "Parameters": {"key.$": "$$.Execution.Name"}, "Next": "Two"},
          "Two": {"Type": "Task", "Resource": "$${generate_dynamic_scenario_arn}", "Next": "Three"},
          "Three": {"Type": "Task", "Resource": "$${invoke_outbound_call_arn}", "Next": "Four"},
          "Four": {"Type": "Task", "Resource": "$${update_lead_arn}", "End": true}
        }
      }
    EOT
  }

  assert {
    condition = (
      jsondecode(output.definition).States.One.Resource == var.function_alias_arns.create_lead &&
      jsondecode(output.definition).States.Two.Resource == var.function_alias_arns.generate_dynamic_scenario &&
      jsondecode(output.definition).States.Three.Resource == var.function_alias_arns.invoke_outbound_call &&
      jsondecode(output.definition).States.Four.Resource == var.function_alias_arns.update_lead
    )
    error_message = "The custom template's alias placeholders must be filled."
  }

  assert {
    condition     = jsondecode(output.definition).Comment == "custom: table test-scenarios in aws"
    error_message = "The table name and partition placeholders must be filled."
  }

  assert {
    condition     = jsondecode(output.definition).States.One.Parameters["key.$"] == "$$.Execution.Name"
    error_message = "Text other than the placeholders must pass through unchanged ($$ needs no escaping)."
  }

  assert {
    condition     = aws_sfn_state_machine.this.definition == output.definition && length(regexall("\\$\\{[a-z_]+\\}", output.definition)) == 0
    error_message = "The state machine must get the filled custom definition."
  }
}

run "invalid_json_template_is_rejected" {
  command = plan

  variables {
    definition_template = "{\"StartAt\": \"One\", \"States\": {\"One\": {\"Type\": \"Task\", \"Resource\": $${create_lead_arn}, \"End\": true}}}"
  }

  expect_failures = [var.definition_template]
}

run "unknown_placeholder_is_rejected" {
  command = plan

  variables {
    definition_template = "{\"StartAt\": \"One\", \"States\": {\"One\": {\"Type\": \"Task\", \"Resource\": \"$${create_lead_function_arn}\", \"End\": true}}}"
  }

  expect_failures = [aws_sfn_state_machine.this]
}

run "definition_without_states_is_rejected" {
  command = plan

  variables {
    definition_template = "{\"Comment\": \"not a state machine\"}"
  }

  expect_failures = [aws_sfn_state_machine.this]
}

run "unqualified_alias_arn_is_rejected" {
  command = plan

  variables {
    function_alias_arns = {
      create_lead               = "arn:aws:lambda:us-west-2:123456789012:function:test-CreateLeadHandler"
      generate_dynamic_scenario = "arn:aws:lambda:us-west-2:123456789012:function:test-GenerateDynamicScenarioHandler:live"
      invoke_outbound_call      = "arn:aws:lambda:us-west-2:123456789012:function:test-InvokeOutboundCallHandler:live"
      update_lead               = "arn:aws:lambda:us-west-2:123456789012:function:test-UpdateLeadHandler:live"
    }
  }

  expect_failures = [var.function_alias_arns]
}

run "latest_alias_arn_is_rejected" {
  command = plan

  variables {
    function_alias_arns = {
      create_lead               = "arn:aws:lambda:us-west-2:123456789012:function:test-CreateLeadHandler:live"
      generate_dynamic_scenario = "arn:aws:lambda:us-west-2:123456789012:function:test-GenerateDynamicScenarioHandler:$LATEST"
      invoke_outbound_call      = "arn:aws:lambda:us-west-2:123456789012:function:test-InvokeOutboundCallHandler:live"
      update_lead               = "arn:aws:lambda:us-west-2:123456789012:function:test-UpdateLeadHandler:live"
    }
  }

  expect_failures = [var.function_alias_arns]
}

run "bad_log_level_is_rejected" {
  command = plan

  variables {
    log_level = "DEBUG"
  }

  expect_failures = [var.log_level]
}

run "bad_name_is_rejected" {
  command = plan

  variables {
    name = "Atlas Engine Workflow"
  }

  expect_failures = [var.name]
}

run "kms_key_is_used_for_the_log_group" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == "arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555"
    error_message = "The log group must be encrypted with the given key."
  }
}
