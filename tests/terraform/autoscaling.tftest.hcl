# Provisioned concurrency that follows the traffic (issue 9 section 3, autoscaling.tf): Application Auto Scaling
# on LexFulfillmentHandler's live alias, planned with a mocked AWS provider in us-west-2. Checks the scalable
# target, the target tracking policy, scheduled actions, who owns the count when both are set, the dashboard
# and spillover alarm, and the refusals.

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

run "off_by_default_the_fixed_count_stays" {
  command = plan

  assert {
    condition = (
      length(aws_appautoscaling_target.lex_provisioned_concurrency) == 0 &&
      length(aws_appautoscaling_policy.lex_provisioned_concurrency) == 0 &&
      length(aws_appautoscaling_scheduled_action.lex_provisioned_concurrency) == 0 &&
      output.lex_provisioned_concurrency_autoscaling == null
    )
    error_message = "Without provisioned_concurrency_autoscaling nothing is registered with Application Auto Scaling."
  }

  assert {
    condition     = output.lambda_provisioned_concurrent_executions["LexFulfillmentHandler"] == 1
    error_message = "Without autoscaling, LexFulfillmentHandler keeps its fixed provisioned concurrency of 1."
  }
}

run "autoscaling_owns_the_live_alias_count" {
  command = plan

  # The state machine's ARN is computed by AWS; known here so the dashboard body can be checked.
  override_resource {
    target          = module.workflow[0].aws_sfn_state_machine.this
    override_during = plan
    values = {
      arn = "arn:aws:states:us-west-2:123456789012:stateMachine:dev-AtlasEngineWorkflow"
    }
  }

  variables {
    name_prefix = "dev-"
    provisioned_concurrency_autoscaling = {
      enabled      = true
      min_capacity = 1
      max_capacity = 8
      scheduled_actions = {
        calling-hours-start = { schedule = "cron(0 8 ? * MON-FRI *)", timezone = "America/New_York", min_capacity = 3, max_capacity = 10 }
        calling-hours-end   = { schedule = "cron(0 18 ? * MON-FRI *)", timezone = "America/New_York", min_capacity = 0, max_capacity = 2 }
      }
    }
  }

  assert {
    condition = (
      aws_appautoscaling_target.lex_provisioned_concurrency[0].service_namespace == "lambda" &&
      aws_appautoscaling_target.lex_provisioned_concurrency[0].scalable_dimension == "lambda:function:ProvisionedConcurrency" &&
      aws_appautoscaling_target.lex_provisioned_concurrency[0].resource_id == "function:dev-LexFulfillmentHandler:live" &&
      aws_appautoscaling_target.lex_provisioned_concurrency[0].min_capacity == 1 &&
      aws_appautoscaling_target.lex_provisioned_concurrency[0].max_capacity == 8
    )
    error_message = "The scalable target is LexFulfillmentHandler's live alias (function:<name>:live), ProvisionedConcurrency, min 1 and max 8."
  }

  assert {
    condition = (
      aws_appautoscaling_policy.lex_provisioned_concurrency[0].policy_type == "TargetTrackingScaling" &&
      aws_appautoscaling_policy.lex_provisioned_concurrency[0].resource_id == "function:dev-LexFulfillmentHandler:live" &&
      aws_appautoscaling_policy.lex_provisioned_concurrency[0].scalable_dimension == "lambda:function:ProvisionedConcurrency" &&
      aws_appautoscaling_policy.lex_provisioned_concurrency[0].target_tracking_scaling_policy_configuration[0].target_value == 0.7 &&
      aws_appautoscaling_policy.lex_provisioned_concurrency[0].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "LambdaProvisionedConcurrencyUtilization"
    )
    error_message = "Target tracking follows LambdaProvisionedConcurrencyUtilization at 0.7 by default on the same target."
  }

  assert {
    condition = (
      keys(aws_appautoscaling_scheduled_action.lex_provisioned_concurrency) == ["calling-hours-end", "calling-hours-start"] &&
      aws_appautoscaling_scheduled_action.lex_provisioned_concurrency["calling-hours-start"].name == "dev-LexFulfillmentHandler-calling-hours-start" &&
      aws_appautoscaling_scheduled_action.lex_provisioned_concurrency["calling-hours-start"].schedule == "cron(0 8 ? * MON-FRI *)" &&
      aws_appautoscaling_scheduled_action.lex_provisioned_concurrency["calling-hours-start"].timezone == "America/New_York" &&
      aws_appautoscaling_scheduled_action.lex_provisioned_concurrency["calling-hours-start"].resource_id == "function:dev-LexFulfillmentHandler:live" &&
      aws_appautoscaling_scheduled_action.lex_provisioned_concurrency["calling-hours-start"].scalable_target_action[0].min_capacity == "3" &&
      aws_appautoscaling_scheduled_action.lex_provisioned_concurrency["calling-hours-start"].scalable_target_action[0].max_capacity == "10" &&
      aws_appautoscaling_scheduled_action.lex_provisioned_concurrency["calling-hours-end"].scalable_target_action[0].min_capacity == "0"
    )
    error_message = "Each scheduled action sets min and max capacity on the live alias at its cron time in its time zone."
  }

  assert {
    condition = (
      output.lambda_provisioned_concurrent_executions["LexFulfillmentHandler"] == 0 &&
      module.lambda_function["LexFulfillmentHandler"].provisioned_concurrency_config == null
    )
    error_message = "With autoscaling, the function module creates no provisioned concurrency config that would fight the scaler."
  }

  assert {
    condition = (
      output.lex_provisioned_concurrency_autoscaling.resource_id == "function:dev-LexFulfillmentHandler:live" &&
      output.lex_provisioned_concurrency_autoscaling.scheduled_actions == tolist(["calling-hours-end", "calling-hours-start"]) &&
      output.lex_provisioned_concurrency_autoscaling.target_utilization == 0.7
    )
    error_message = "The output describes the scaling target."
  }

  assert {
    condition = (
      contains(keys(module.monitoring.alarm_configurations), "LexFulfillmentHandler-provisioned-concurrency-spillover") &&
      module.monitoring.alarm_configurations["LexFulfillmentHandler-provisioned-concurrency-spillover"].dimensions["Resource"] == "dev-LexFulfillmentHandler:live" &&
      strcontains(module.monitoring.dashboard_body, "ProvisionedConcurrentExecutions") &&
      strcontains(module.monitoring.dashboard_body, "LexFulfillmentHandler allocated (autoscaled 1-8)")
    )
    error_message = "The spillover alarm stays and the dashboard shows utilization, in use and allocated for the autoscaled alias."
  }
}

run "target_and_cooldowns_are_variables" {
  command = plan

  variables {
    provisioned_concurrency_autoscaling = {
      enabled                    = true
      target_utilization         = 0.5
      scale_in_cooldown_seconds  = 600
      scale_out_cooldown_seconds = 0
    }
  }

  assert {
    condition = (
      aws_appautoscaling_policy.lex_provisioned_concurrency[0].target_tracking_scaling_policy_configuration[0].target_value == 0.5 &&
      aws_appautoscaling_policy.lex_provisioned_concurrency[0].target_tracking_scaling_policy_configuration[0].scale_in_cooldown == 600 &&
      aws_appautoscaling_policy.lex_provisioned_concurrency[0].target_tracking_scaling_policy_configuration[0].scale_out_cooldown == 0 &&
      aws_appautoscaling_target.lex_provisioned_concurrency[0].min_capacity == 1 &&
      aws_appautoscaling_target.lex_provisioned_concurrency[0].max_capacity == 5
    )
    error_message = "target_utilization and cooldowns reach the policy; min 1 and max 5 are the defaults."
  }
}

run "fixed_count_and_autoscaling_together_is_refused" {
  command = plan

  variables {
    functions                           = { LexFulfillmentHandler = { provisioned_concurrent_executions = 3 } }
    provisioned_concurrency_autoscaling = { enabled = true }
  }

  expect_failures = [aws_appautoscaling_target.lex_provisioned_concurrency]
}

run "max_above_reserved_concurrency_is_refused" {
  command = plan

  variables {
    functions = { LexFulfillmentHandler = { reserved_concurrent_executions = 5 } }
    provisioned_concurrency_autoscaling = {
      enabled      = true
      max_capacity = 4
      scheduled_actions = {
        peak = { schedule = "cron(0 9 * * ? *)", min_capacity = 2, max_capacity = 6 }
      }
    }
  }

  expect_failures = [aws_appautoscaling_target.lex_provisioned_concurrency]
}

run "snap_start_with_autoscaling_is_refused" {
  command = plan

  variables {
    functions                           = { LexFulfillmentHandler = { provisioned_concurrent_executions = 0, snap_start = true } }
    provisioned_concurrency_autoscaling = { enabled = true }
  }

  expect_failures = [aws_appautoscaling_target.lex_provisioned_concurrency]
}

run "target_utilization_out_of_range_is_refused" {
  command = plan

  variables {
    provisioned_concurrency_autoscaling = { enabled = true, target_utilization = 0.95 }
  }

  expect_failures = [var.provisioned_concurrency_autoscaling]
}

run "min_above_max_is_refused" {
  command = plan

  variables {
    provisioned_concurrency_autoscaling = { enabled = true, min_capacity = 6, max_capacity = 5 }
  }

  expect_failures = [var.provisioned_concurrency_autoscaling]
}

run "floor_of_zero_without_a_schedule_is_refused" {
  command = plan

  variables {
    provisioned_concurrency_autoscaling = { enabled = true, min_capacity = 0 }
  }

  expect_failures = [var.provisioned_concurrency_autoscaling]
}

run "bad_schedule_is_refused" {
  command = plan

  variables {
    provisioned_concurrency_autoscaling = {
      enabled           = true
      scheduled_actions = { morning = { schedule = "0 8 * * *", min_capacity = 2, max_capacity = 5 } }
    }
  }

  expect_failures = [var.provisioned_concurrency_autoscaling]
}
