# Root module wiring of the AtlasEngineWorkflow state machine (issue 3 section 2, Task 5), planned with a
# mocked AWS provider: the root hands each workflow task its function's live alias ARN, the role may invoke only
# those, tracing and logging are on, and var.workflow reaches the module. Rejections of bad templates and ARNs are
# tested in modules/workflow/tests (expect_failures cannot name a child module's variables or resources).

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

# Stand-ins for the alias ARNs the provider computes at apply (a mock leaves them unknown in a plan), distinct
# per function so a swapped wire shows. The alias name "live" is the root's own configuration.
override_resource {
  target          = module.lambda_function["LexFulfillmentHandler"].aws_lambda_alias.live
  override_during = plan
  values = {
    arn = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live"
  }
}

override_resource {
  target          = module.lambda_function["CreateLeadHandler"].aws_lambda_alias.live
  override_during = plan
  values = {
    arn = "arn:aws:lambda:us-west-2:123456789012:function:CreateLeadHandler:live"
  }
}

override_resource {
  target          = module.lambda_function["GenerateDynamicScenarioHandler"].aws_lambda_alias.live
  override_during = plan
  values = {
    arn = "arn:aws:lambda:us-west-2:123456789012:function:GenerateDynamicScenarioHandler:live"
  }
}

override_resource {
  target          = module.lambda_function["InvokeOutboundCallHandler"].aws_lambda_alias.live
  override_during = plan
  values = {
    arn = "arn:aws:lambda:us-west-2:123456789012:function:InvokeOutboundCallHandler:live"
  }
}

override_resource {
  target          = module.lambda_function["UpdateLeadHandler"].aws_lambda_alias.live
  override_during = plan
  values = {
    arn = "arn:aws:lambda:us-west-2:123456789012:function:UpdateLeadHandler:live"
  }
}

override_resource {
  target          = module.workflow[0].aws_sfn_state_machine.this
  override_during = plan
  values = {
    arn = "arn:aws:states:us-west-2:123456789012:stateMachine:AtlasEngineWorkflow"
  }
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

run "state_machine_is_traced_and_logged" {
  command = plan

  assert {
    condition     = module.workflow[0].state_machine_tracing_enabled == true
    error_message = "X-Ray tracing must be enabled on the state machine (Task 5)."
  }

  assert {
    condition     = module.workflow[0].state_machine_logging_configuration.level == "ALL"
    error_message = "The default workflow log level is ALL."
  }

  assert {
    condition     = module.workflow[0].state_machine_logging_configuration.include_execution_data == false
    error_message = "Execution data holds lead PII and must not be logged."
  }

  assert {
    condition     = module.workflow[0].log_group_name == "/aws/vendedlogs/states/AtlasEngineWorkflow"
    error_message = "The workflow's log group must be /aws/vendedlogs/states/<name>."
  }

  assert {
    condition     = module.workflow[0].state_machine_name == "AtlasEngineWorkflow"
    error_message = "The root names the state machine AtlasEngineWorkflow (plus prefix and suffix)."
  }
}

run "tasks_invoke_the_live_aliases" {
  command = plan

  assert {
    condition = alltrue([
      for s in values(jsondecode(module.workflow[0].definition).States) : endswith(s.Resource, ":live")
      if s.Type == "Task" && strcontains(try(s.Resource, ""), ":lambda:")
    ])
    error_message = "Every Lambda task's Resource must end in :live."
  }

  assert {
    condition = (
      jsondecode(module.workflow[0].definition).States.CreateLead.Resource == module.lambda_function["CreateLeadHandler"].alias_arn &&
      jsondecode(module.workflow[0].definition).States.GenerateDynamicScenario.Resource == module.lambda_function["GenerateDynamicScenarioHandler"].alias_arn &&
      jsondecode(module.workflow[0].definition).States.InvokeOutboundCall.Resource == module.lambda_function["InvokeOutboundCallHandler"].alias_arn &&
      jsondecode(module.workflow[0].definition).States.UpdateLead.Resource == module.lambda_function["UpdateLeadHandler"].alias_arn
    )
    error_message = "Each task must invoke its own function's alias ARN as the root wires it."
  }

  assert {
    condition     = jsondecode(module.workflow[0].definition).States.CreateLead.Resource == "arn:aws:lambda:us-west-2:123456789012:function:CreateLeadHandler:live"
    error_message = "CreateLead must invoke CreateLeadHandler's live alias."
  }

  assert {
    condition = alltrue([
      for s in values(jsondecode(module.workflow[0].definition).States) : length(try(s.Retry, [])) > 0 && anytrue([for c in try(s.Catch, []) : contains(c.ErrorEquals, "States.ALL")])
      if s.Type == "Task"
    ])
    error_message = "Every task must retry and catch."
  }

  assert {
    condition     = jsondecode(module.workflow[0].definition).States.RecordFailedLead.Parameters.TableName == "AtlasEngineScenarios"
    error_message = "Failed leads go to the scenario table (docs/contracts.md)."
  }

  assert {
    condition     = output.state_machine_arn == "arn:aws:states:us-west-2:123456789012:stateMachine:AtlasEngineWorkflow" && output.state_machine_name == "AtlasEngineWorkflow"
    error_message = "The root's state_machine outputs must come from the workflow module."
  }
}

run "role_may_invoke_only_the_aliases" {
  command = plan

  assert {
    condition = toset(module.workflow[0].role_lambda_invoke_arns) == toset([
      module.lambda_function["CreateLeadHandler"].alias_arn,
      module.lambda_function["GenerateDynamicScenarioHandler"].alias_arn,
      module.lambda_function["InvokeOutboundCallHandler"].alias_arn,
      module.lambda_function["UpdateLeadHandler"].alias_arn,
    ])
    error_message = "lambda:InvokeFunction must be granted on exactly the four workflow alias ARNs."
  }

  assert {
    condition     = !contains(module.workflow[0].role_lambda_invoke_arns, module.lambda_function["LexFulfillmentHandler"].alias_arn)
    error_message = "The workflow must not be able to invoke LexFulfillmentHandler."
  }
}

run "workflow_settings_reach_the_module" {
  command = plan

  variables {
    name_prefix = "dev-"
    workflow = {
      log_level           = "ERROR"
      definition_template = <<-EOT
        {
          "StartAt": "Create",
          "States": {
            "Create": {"Type": "Task", "Resource": "$${create_lead_arn}", "Next": "Update"},
            "Update": {"Type": "Task", "Resource": "$${update_lead_arn}", "End": true}
          }
        }
      EOT
    }
  }

  assert {
    condition     = module.workflow[0].state_machine_name == "dev-AtlasEngineWorkflow"
    error_message = "name_prefix must reach the state machine's name."
  }

  assert {
    condition     = module.workflow[0].state_machine_logging_configuration.level == "ERROR"
    error_message = "workflow.log_level must reach the state machine's logging configuration."
  }

  assert {
    condition = (
      jsondecode(module.workflow[0].definition).States.Create.Resource == module.lambda_function["CreateLeadHandler"].alias_arn &&
      jsondecode(module.workflow[0].definition).States.Update.Resource == module.lambda_function["UpdateLeadHandler"].alias_arn
    )
    error_message = "A custom definition_template must be filled with the alias ARNs."
  }
}

run "workflow_can_be_disabled" {
  command = plan

  variables {
    workflow = {
      enabled = false
    }
  }

  assert {
    condition     = length(module.workflow) == 0 && output.state_machine_arn == null && output.state_machine_name == null
    error_message = "workflow.enabled = false must drop the state machine."
  }
}
