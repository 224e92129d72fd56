# Adopting an existing bot's data (issue 6 section 5) and the Salesforce session timeout: each root variable
# reaches the handlers' environment as the settings object parses it (lambda_src/atlas_shared/settings.py),
# today's behaviour is the default, and a template that could never build a working key fails at plan.

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

run "defaults_are_todays_key_layout_and_attribute" {
  command = plan

  assert {
    condition = jsondecode(module.lambda_function["LexFulfillmentHandler"].function_configuration.environment_variables["SCENARIO_KEY_LAYOUTS"]) == [{
      key_pattern   = "^[A-Za-z0-9_-]{8,128}$"
      partition_key = "INTERACTION#{key}"
      sort_key      = "SCENARIO"
    }]
    error_message = "By default LexFulfillmentHandler reads INTERACTION#<key> / SCENARIO."
  }

  assert {
    condition     = module.lambda_function["LexFulfillmentHandler"].function_configuration.environment_variables["INTERACTION_KEY_ATTRIBUTES"] == "[\"interactionKey\"]"
    error_message = "By default the key comes from the interactionKey attribute."
  }

  assert {
    condition     = module.lambda_function["GenerateDynamicScenarioHandler"].function_configuration.environment_variables["SCENARIO_KEY_LAYOUTS"] == module.lambda_function["LexFulfillmentHandler"].function_configuration.environment_variables["SCENARIO_KEY_LAYOUTS"]
    error_message = "The writer and the reader of scenario items must use the same layouts."
  }

  assert {
    condition = alltrue([for name in ["LexFulfillmentHandler", "CreateLeadHandler", "UpdateLeadHandler"] :
      module.lambda_function[name].function_configuration.environment_variables["SALESFORCE_SESSION_TIMEOUT_MINUTES"] == "120"
    ])
    error_message = "Every function that calls Salesforce knows the org's session timeout (default 120 minutes)."
  }

  assert {
    condition = alltrue([for name in ["GenerateDynamicScenarioHandler", "InvokeOutboundCallHandler"] :
      !contains(keys(module.lambda_function[name].function_configuration.environment_variables), "SALESFORCE_SESSION_TIMEOUT_MINUTES")
    ])
    error_message = "Functions without Salesforce get no Salesforce settings."
  }
}

run "an_adopted_bots_layout_and_attribute_reach_the_handlers" {
  command = plan

  variables {
    interaction_key_attributes         = ["callKey", "interactionKey"]
    salesforce_session_timeout_minutes = 30
    scenario_key_layouts = [
      { key_pattern = "^[A-Za-z0-9_-]{8,128}$", partition_key = "INTERACTION#{key}", sort_key = "SCENARIO" },
      { key_pattern = "^(?P<lead>00Q[A-Za-z0-9]{15})\\|(?P<at>[0-9]{8}T[0-9]{6})$", partition_key = "LEAD#{lead}", sort_key = "CALL#{at}" },
    ]
  }

  assert {
    condition     = jsondecode(module.lambda_function["LexFulfillmentHandler"].function_configuration.environment_variables["INTERACTION_KEY_ATTRIBUTES"]) == ["callKey", "interactionKey"]
    error_message = "The attribute names reach LexFulfillmentHandler in order, as a JSON list."
  }

  assert {
    condition     = jsondecode(module.lambda_function["LexFulfillmentHandler"].function_configuration.environment_variables["SCENARIO_KEY_LAYOUTS"])[1].partition_key == "LEAD#{lead}"
    error_message = "The layouts reach LexFulfillmentHandler in order, as JSON."
  }

  assert {
    condition     = jsondecode(module.lambda_function["GenerateDynamicScenarioHandler"].function_configuration.environment_variables["SCENARIO_KEY_LAYOUTS"])[1].key_pattern == "^(?P<lead>00Q[A-Za-z0-9]{15})\\|(?P<at>[0-9]{8}T[0-9]{6})$"
    error_message = "The key pattern survives JSON encoding unchanged."
  }

  assert {
    condition     = module.lambda_function["UpdateLeadHandler"].function_configuration.environment_variables["SALESFORCE_SESSION_TIMEOUT_MINUTES"] == "30"
    error_message = "The session timeout reaches the Salesforce functions."
  }
}

run "a_template_using_an_unknown_group_is_rejected" {
  command = plan

  variables {
    scenario_key_layouts = [{ key_pattern = "^(?P<k>.+)$", partition_key = "LEAD#{lead}", sort_key = "SCENARIO" }]
  }

  expect_failures = [var.scenario_key_layouts]
}

run "a_layout_that_ignores_the_key_is_rejected" {
  command = plan

  variables {
    scenario_key_layouts = [{ key_pattern = "^.+$", partition_key = "INTERACTION", sort_key = "SCENARIO" }]
  }

  expect_failures = [var.scenario_key_layouts]
}

run "a_stray_brace_is_rejected" {
  command = plan

  variables {
    scenario_key_layouts = [{ key_pattern = "^.+$", partition_key = "INTERACTION#{key", sort_key = "SCENARIO" }]
  }

  expect_failures = [var.scenario_key_layouts]
}

run "an_invalid_pattern_is_rejected" {
  command = plan

  variables {
    scenario_key_layouts = [{ key_pattern = "^(unclosed$", partition_key = "INTERACTION#{key}", sort_key = "SCENARIO" }]
  }

  expect_failures = [var.scenario_key_layouts]
}

run "no_layout_is_rejected" {
  command = plan

  variables {
    scenario_key_layouts = []
  }

  expect_failures = [var.scenario_key_layouts]
}

run "a_bad_attribute_name_is_rejected" {
  command = plan

  variables {
    interaction_key_attributes = ["interaction key"]
  }

  expect_failures = [var.interaction_key_attributes]
}

run "a_repeated_attribute_name_is_rejected" {
  command = plan

  variables {
    interaction_key_attributes = ["interactionKey", "interactionKey"]
  }

  expect_failures = [var.interaction_key_attributes]
}

run "a_session_timeout_salesforce_does_not_offer_is_rejected" {
  command = plan

  variables {
    salesforce_session_timeout_minutes = 2
  }

  expect_failures = [var.salesforce_session_timeout_minutes]
}
