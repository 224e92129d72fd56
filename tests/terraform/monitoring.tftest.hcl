# Root module wiring of the CloudWatch dashboard and alarms (issue 3 sections 3 and 4), planned with a mocked
# AWS provider whose region is us-west-2. The module's own suite (modules/monitoring/tests) checks the body in
# depth; this one checks what the root passes in: function names, live aliases, log groups, provisioned
# concurrency, the state machine, the model, the alarm settings and the dashboard switch.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  manifest_path         = "tests/terraform/fixtures/manifest.json"
  salesforce_secret_arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:atlasengine/salesforce-AbCdEf"
  scenario_table_arn    = "arn:aws:dynamodb:us-west-2:123456789012:table/AtlasEngineScenarios"
  connect = {
    instance_id     = "11111111-2222-3333-4444-555555555555"
    contact_flow_id = "66666666-7777-8888-9999-000000000000"
    queue_id        = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
  }
}

run "default_alarms_and_dashboard" {
  command = plan

  # The state machine's ARN is computed by AWS; give the plan the value the provider would, so the dashboard
  # body is known here and can be checked.
  override_resource {
    target          = module.workflow[0].aws_sfn_state_machine.this
    override_during = plan
    values = {
      arn = "arn:aws:states:us-west-2:123456789012:stateMachine:AtlasEngineWorkflow"
    }
  }

  assert {
    condition     = module.monitoring.dashboard_name == "AtlasEngine" && output.dashboard_name == "AtlasEngine"
    error_message = "The dashboard is named from name_prefix + AtlasEngine + name_suffix."
  }

  assert {
    condition = (
      module.monitoring.alarm_configurations["LexFulfillmentHandler-p99-duration"].threshold == 7000 &&
      module.monitoring.alarm_configurations["LexFulfillmentHandler-p99-duration"].extended_statistic == "p99" &&
      module.monitoring.alarm_configurations["LexFulfillmentHandler-p99-duration"].comparison_operator == "GreaterThanThreshold" &&
      module.monitoring.alarm_configurations["LexFulfillmentHandler-p99-duration"].period == 60 &&
      module.monitoring.alarm_configurations["LexFulfillmentHandler-p99-duration"].evaluation_periods == 5
    )
    error_message = "The Lex alarm must be p99 Duration > 7000 ms over 5 periods of 60 s by default."
  }

  assert {
    condition = (
      module.monitoring.alarm_configurations["LexFulfillmentHandler-secrets-manager-share"].threshold == 5 &&
      module.monitoring.alarm_configurations["LexFulfillmentHandler-cold-start-rate"].threshold == 0 &&
      strcontains(module.monitoring.dashboard_body, "[\"AtlasEngine\",\"ColdStart\",\"function\",\"LexFulfillmentHandler\",\"initType\",\"on-demand\"")
    )
    error_message = "The root's dashboard and alarms must read the handlers' EMF metrics in the default AtlasEngine namespace."
  }

  assert {
    condition = module.monitoring.alarm_configurations["LexFulfillmentHandler-p99-duration"].dimensions == tomap({
      FunctionName = "LexFulfillmentHandler"
      Resource     = "LexFulfillmentHandler:live"
    })
    error_message = "The Lex p99 alarm must watch LexFulfillmentHandler's live alias."
  }

  assert {
    condition = (
      alltrue([for k, name in output.lambda_function_names :
        module.monitoring.alarm_configurations["${k}-errors"].threshold == 1 &&
        module.monitoring.alarm_configurations["${k}-errors"].comparison_operator == "GreaterThanOrEqualToThreshold" &&
        module.monitoring.alarm_configurations["${k}-errors"].dimensions == tomap({ FunctionName = name }) &&
        module.monitoring.alarm_configurations["${k}-throttles"].threshold == 1 &&
        module.monitoring.alarm_configurations["${k}-throttles"].comparison_operator == "GreaterThanOrEqualToThreshold" &&
        module.monitoring.alarm_configurations["${k}-throttles"].dimensions == tomap({ FunctionName = name })
      ])
    )
    error_message = "Every function gets Errors >= 1 and Throttles >= 1 alarms by default."
  }

  assert {
    condition = (
      [for k in keys(module.monitoring.alarm_configurations) : k if endswith(k, "-provisioned-concurrency-spillover")] == ["LexFulfillmentHandler-provisioned-concurrency-spillover"] &&
      module.monitoring.alarm_configurations["LexFulfillmentHandler-provisioned-concurrency-spillover"].dimensions["Resource"] == "LexFulfillmentHandler:live"
    )
    error_message = "Only LexFulfillmentHandler (provisioned concurrency 1 by default) gets the spillover alarm, on its live alias."
  }

  assert {
    condition = (
      module.monitoring.alarm_configurations["workflow-executions-failed"].dimensions["StateMachineArn"] == "arn:aws:states:us-west-2:123456789012:stateMachine:AtlasEngineWorkflow"
    )
    error_message = "The workflow's ExecutionsFailed alarm must watch the state machine the root creates."
  }

  assert {
    condition     = alltrue([for a in values(module.monitoring.alarm_configurations) : length(a.alarm_actions) == 0 && length(a.ok_actions) == 0 && startswith(a.alarm_name, "AtlasEngine-")])
    error_message = "Without an SNS topic every alarm has empty actions; names start with the dashboard name."
  }

  # PutDashboard's rules on the body the root generates.
  assert {
    condition = alltrue([for w in jsondecode(module.monitoring.dashboard_body).widgets :
      can(concat(w.properties.metrics, [])) && length(w.properties.metrics) > 0 && alltrue([for r in w.properties.metrics : can(concat(r, []))])
    if w.type == "metric"])
    error_message = "Every metric widget's metrics must be a non-empty list of lists."
  }

  assert {
    condition = alltrue(flatten([for w in jsondecode(module.monitoring.dashboard_body).widgets : [
      for r in w.properties.metrics : [for i, el in r : !can(keys(el)) || i == length(r) - 1]
    ] if w.type == "metric"]))
    error_message = "A rendering-options object must be the last element of its row."
  }

  assert {
    condition = alltrue(flatten([for w in jsondecode(module.monitoring.dashboard_body).widgets : [
      for i, r in w.properties.metrics : i > 0 && try(w.properties.metrics[i - 1][0] != "..." && can(regex("^[A-Za-z0-9/._-]+$", w.properties.metrics[i - 1][0])), false)
      if try(r[0] == "...", false)
    ] if w.type == "metric"]))
    error_message = "The \"...\" shorthand may appear only after a full metric row."
  }

  assert {
    condition = alltrue([for w in jsondecode(module.monitoring.dashboard_body).widgets :
      try(w.properties.region, null) == "us-west-2"
    if contains(["metric", "log"], w.type)])
    error_message = "Every metric and log widget must carry the provider's region."
  }

  assert {
    condition = toset(flatten([for w in jsondecode(module.monitoring.dashboard_body).widgets : [
      for r in w.properties.metrics : r[5] if try(r[1] == "Duration", false) && try(r[4] == "Resource", false)
    ] if w.type == "metric"])) == toset([for k in keys(output.lambda_function_names) : "${k}:live"])
    error_message = "Duration must be drawn on the live alias of all five functions."
  }

  assert {
    condition = toset(flatten([for w in [for w in jsondecode(module.monitoring.dashboard_body).widgets : w if w.type == "log"] :
      regexall("SOURCE '([^']+)'", w.properties.query)
    ])) == toset(values(output.lambda_log_group_names))
    error_message = "Log widgets must SOURCE exactly the functions' log groups."
  }

  assert {
    condition = contains(flatten([for w in jsondecode(module.monitoring.dashboard_body).widgets : [
      for r in w.properties.metrics : "${r[0]}/${r[1]}/${r[2]}=${r[3]}" if try(r[0] == "AWS/Bedrock", false)
    ] if w.type == "metric"]), "AWS/Bedrock/InvocationLatency/ModelId=us.anthropic.claude-haiku-5-5")
    error_message = "Bedrock latency must be drawn for var.bedrock.model_id."
  }

  assert {
    condition = contains(flatten([for w in jsondecode(module.monitoring.dashboard_body).widgets : [
      for r in w.properties.metrics : "${r[1]}=${r[3]}" if try(r[0] == "AWS/States", false)
    ] if w.type == "metric"]), "ExecutionTime=arn:aws:states:us-west-2:123456789012:stateMachine:AtlasEngineWorkflow")
    error_message = "Step Functions ExecutionTime must be drawn for the workflow's state machine."
  }

  assert {
    condition = alltrue([for w in jsondecode(module.monitoring.dashboard_body).widgets :
      [for a in w.properties.annotations.horizontal : a.value] == [5000, 7000]
      if w.type == "metric" && try(w.properties.metrics[0][1] == "Duration", false)
    ])
    error_message = "Latency widgets draw the 5 s average and 7 s p99 targets."
  }
}

run "overridden_alarms_with_sns_and_prefixed_names" {
  command = plan

  # The state machine's ARN is computed by AWS; give the plan the value the provider would, so the dashboard
  # body is known here and can be checked.
  override_resource {
    target          = module.workflow[0].aws_sfn_state_machine.this
    override_during = plan
    values = {
      arn = "arn:aws:states:us-west-2:123456789012:stateMachine:dev-AtlasEngineWorkflow"
    }
  }

  variables {
    name_prefix = "dev-"
    alarms = {
      sns_topic_arn              = "arn:aws:sns:us-west-2:123456789012:atlas-alerts"
      average_duration_target_ms = 3000
      p99_duration_target_ms     = 4000
      errors_threshold           = 5
      throttles_threshold        = 3
      period_seconds             = 300
      evaluation_periods         = 2
    }
  }

  assert {
    condition = (
      module.monitoring.alarm_configurations["LexFulfillmentHandler-p99-duration"].threshold == 4000 &&
      module.monitoring.alarm_configurations["LexFulfillmentHandler-p99-duration"].period == 300 &&
      module.monitoring.alarm_configurations["LexFulfillmentHandler-p99-duration"].evaluation_periods == 2 &&
      module.monitoring.alarm_configurations["LexFulfillmentHandler-p99-duration"].dimensions["Resource"] == "dev-LexFulfillmentHandler:live"
    )
    error_message = "The Lex p99 alarm must follow alarms.p99_duration_target_ms, period and evaluation periods."
  }

  assert {
    condition = (
      alltrue([for k in keys(output.lambda_function_names) : module.monitoring.alarm_configurations["${k}-errors"].threshold == 5]) &&
      alltrue([for k in keys(output.lambda_function_names) : module.monitoring.alarm_configurations["${k}-throttles"].threshold == 3])
    )
    error_message = "Errors and throttles alarms must follow the overridden thresholds."
  }

  assert {
    condition = alltrue([for a in values(module.monitoring.alarm_configurations) : a.alarm_actions == tolist(["arn:aws:sns:us-west-2:123456789012:atlas-alerts"]) &&
      a.ok_actions == tolist(["arn:aws:sns:us-west-2:123456789012:atlas-alerts"]) &&
      startswith(a.alarm_name, "dev-AtlasEngine-")
    ])
    error_message = "Every alarm must notify the SNS topic on ALARM and OK, and carry the environment prefix."
  }

  assert {
    condition     = output.dashboard_name == "dev-AtlasEngine"
    error_message = "The dashboard takes the environment prefix."
  }

  assert {
    condition = alltrue([for w in jsondecode(module.monitoring.dashboard_body).widgets :
      [for a in w.properties.annotations.horizontal : a.value] == [3000, 4000]
      if w.type == "metric" && try(w.properties.metrics[0][1] == "Duration", false)
    ])
    error_message = "Latency annotations must follow the overridden targets."
  }
}

run "dashboard_disabled" {
  command = plan

  variables {
    dashboard_enabled = false
  }

  assert {
    condition     = module.monitoring.dashboard_name == null && module.monitoring.dashboard_body == null && output.dashboard_name == null
    error_message = "dashboard_enabled = false must create no dashboard."
  }

  assert {
    condition     = length([for k in keys(module.monitoring.alarm_configurations) : k if endswith(k, "-errors")]) == 5
    error_message = "The alarms stay without the dashboard."
  }
}

run "workflow_disabled_drops_its_widgets_and_alarm" {
  command = plan

  variables {
    workflow = { enabled = false }
  }

  assert {
    condition = (
      !contains(keys(module.monitoring.alarm_configurations), "workflow-executions-failed") &&
      !strcontains(module.monitoring.dashboard_body, "AWS/States")
    )
    error_message = "Without the workflow there is no Step Functions alarm or widget."
  }
}

run "provisioned_concurrency_off_drops_spillover_alarm" {
  command = plan

  override_resource {
    target          = module.workflow[0].aws_sfn_state_machine.this
    override_during = plan
    values = {
      arn = "arn:aws:states:us-west-2:123456789012:stateMachine:AtlasEngineWorkflow"
    }
  }

  variables {
    functions = {
      LexFulfillmentHandler = { provisioned_concurrent_executions = 0 }
    }
  }

  assert {
    condition = (
      length([for k in keys(module.monitoring.alarm_configurations) : k if endswith(k, "-provisioned-concurrency-spillover")]) == 0 &&
      !strcontains(module.monitoring.dashboard_body, "ProvisionedConcurrency")
    )
    error_message = "Without provisioned concurrency there is no spillover alarm or provisioned concurrency widget."
  }
}

# No override here: the state machine's ARN is unknown until apply, as in a real first plan. The number of
# alarms must still be known (the root passes state_machine_enabled), or the plan fails with
# "Invalid count argument".
run "state_machine_arn_unknown_at_plan" {
  command = plan

  assert {
    condition     = contains(keys(module.monitoring.alarm_configurations), "workflow-executions-failed")
    error_message = "The workflow alarm must be planned even while the state machine ARN is unknown."
  }

  assert {
    condition     = module.monitoring.alarm_configurations["workflow-executions-failed"].threshold == 0
    error_message = "The workflow alarm fires on any failed execution."
  }
}
