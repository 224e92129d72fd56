# Bad input to the root module fails at plan with a message that says what to fix, before anything reaches
# AWS or a Lambda cold start: each value below would otherwise plan fine and break every invocation or the
# apply. (Function-level validations are in lambda.tftest.hcl; Lex's in lex.tftest.hcl.)

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

run "valid_inputs_plan" {
  command = plan

  variables {
    connect = {
      instance_id         = "11111111-2222-3333-4444-555555555555"
      contact_flow_id     = "66666666-7777-8888-9999-000000000000"
      source_phone_number = "+14155550123"
    }
    bedrock     = { model_id = "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0" }
    kms_key_arn = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    name_prefix = "staging-eu-west1-"
    name_suffix = "-blue"
  }

  assert {
    condition     = module.lambda_function["GenerateDynamicScenarioHandler"].function_name == "staging-eu-west1-GenerateDynamicScenarioHandler-blue"
    error_message = "The longest handler name with a 17-character prefix still fits Lambda's 64 characters."
  }
}

run "missing_manifest_says_to_build" {
  command = plan

  variables {
    manifest_path = "tests/terraform/fixtures/no-such-manifest.json"
  }

  expect_failures = [var.manifest_path]
}

run "incomplete_manifest_is_rejected" {
  command = plan

  variables {
    manifest_path = "tests/terraform/fixtures/incomplete-manifest.json"
  }

  expect_failures = [var.manifest_path]
}

run "bedrock_model_id_with_spaces_is_rejected" {
  command = plan

  variables {
    bedrock = { model_id = "anthropic claude 3" }
  }

  expect_failures = [var.bedrock]
}

run "connect_arn_instead_of_id_is_rejected" {
  command = plan

  variables {
    connect = {
      instance_id     = "arn:aws:connect:us-west-2:123456789012:instance/11111111-2222-3333-4444-555555555555"
      contact_flow_id = "66666666-7777-8888-9999-000000000000"
      queue_id        = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    }
  }

  expect_failures = [var.connect]
}

run "source_phone_number_must_be_e164" {
  command = plan

  variables {
    connect = {
      instance_id         = "11111111-2222-3333-4444-555555555555"
      contact_flow_id     = "66666666-7777-8888-9999-000000000000"
      source_phone_number = "+1 415 555 0100"
    }
  }

  expect_failures = [var.connect]
}

run "kms_alias_is_rejected" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-west-2:123456789012:alias/atlas"
  }

  expect_failures = [var.kms_key_arn]
}

run "name_prefix_too_long_for_function_names" {
  command = plan

  variables {
    name_prefix = "staging-eu-west-1-"
  }

  expect_failures = [var.name_prefix]
}

run "misspelled_function_key_is_rejected" {
  command = plan

  variables {
    functions = { LexFulfilmentHandler = { memory_size = 1024 } }
  }

  expect_failures = [var.functions]
}

run "lex_timeout_below_the_turn_budget_is_rejected" {
  command = plan

  variables {
    functions = { LexFulfillmentHandler = { timeout = 10 } }
  }

  expect_failures = [var.functions]
}

# Issue 7 section 7: inputs that plan fine but can never work are refused, and customer managed keys are granted.

run "secret_arn_without_its_random_suffix_is_rejected" {
  command = plan

  variables {
    salesforce_secret_arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:atlasengine/salesforce"
  }

  expect_failures = [var.salesforce_secret_arn]
}

run "secret_arn_with_a_short_suffix_is_rejected" {
  command = plan

  variables {
    salesforce_secret_arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:atlasengine/salesforce-AbCdE"
  }

  expect_failures = [var.salesforce_secret_arn]
}

run "alarm_period_under_a_minute_is_rejected" {
  command = plan

  variables {
    alarms = { period_seconds = 30 }
  }

  expect_failures = [var.alarms]
}

run "alarm_period_of_ten_seconds_is_rejected" {
  command = plan

  variables {
    alarms = { period_seconds = 10 }
  }

  expect_failures = [var.alarms]
}

run "kms_key_inputs_must_be_key_arns" {
  command = plan

  variables {
    salesforce_secret_kms_key_arn = "arn:aws:kms:us-west-2:123456789012:alias/salesforce"
    scenario_table_kms_key_arn    = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  expect_failures = [var.salesforce_secret_kms_key_arn, var.scenario_table_kms_key_arn]
}

run "without_customer_managed_keys_no_kms_grant" {
  command = plan

  assert {
    condition = alltrue([for name, m in module.lambda_function :
      !contains(flatten([for s in values(m.role_policy_statements) : s.actions]), "kms:Decrypt")
    ])
    error_message = "Without customer managed keys no role may be granted kms:Decrypt."
  }
}

run "customer_managed_keys_grant_exactly_kms_decrypt_to_the_readers" {
  command = plan

  variables {
    salesforce_secret_kms_key_arn = "arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555"
    scenario_table_kms_key_arn    = "arn:aws:kms:us-west-2:123456789012:key/66666666-7777-8888-9999-000000000000"
  }

  assert {
    condition = alltrue([for name in ["LexFulfillmentHandler", "CreateLeadHandler", "UpdateLeadHandler"] :
      jsonencode(module.lambda_function[name].role_policy_statements["salesforcesecretkey"]) == jsonencode({
        actions   = ["kms:Decrypt"]
        resources = ["arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555"]
      })
    ])
    error_message = "The three roles that read the Salesforce secret must get exactly kms:Decrypt on its key."
  }

  assert {
    # Every function uses the table: Lex reads scenarios, GenerateDynamicScenario writes them, and the three
    # workflow tasks keep their idempotency records there.
    condition = alltrue([for name in ["LexFulfillmentHandler", "GenerateDynamicScenarioHandler", "CreateLeadHandler", "InvokeOutboundCallHandler", "UpdateLeadHandler"] :
      jsonencode(module.lambda_function[name].role_policy_statements["scenariotablekey"]) == jsonencode({
        actions   = ["kms:Decrypt"]
        resources = ["arn:aws:kms:us-west-2:123456789012:key/66666666-7777-8888-9999-000000000000"]
      })
    ])
    error_message = "The roles that use the scenario table must get exactly kms:Decrypt on its key."
  }

  assert {
    condition = (
      !contains(keys(module.lambda_function["InvokeOutboundCallHandler"].role_policy_statements), "salesforcesecretkey") &&
      !contains(keys(module.lambda_function["GenerateDynamicScenarioHandler"].role_policy_statements), "salesforcesecretkey")
    )
    error_message = "A role that does not read the Salesforce secret must not be granted its key."
  }
}
