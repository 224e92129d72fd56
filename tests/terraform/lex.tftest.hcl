# Root module wiring of the Lex V2 code hook (issue 3 section 1), planned with a mocked AWS provider.
# Every run is a plan: local-exec provisioners never run, so the code hook script is not called here
# (tests/e2e and `make run` apply it against moto).

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

# Stand-ins for the alias ARNs the provider computes at apply (a mock leaves them unknown in a plan):
# distinct per function, so the checks below tell LexFulfillmentHandler's alias from the others. The alias
# name itself ("live") is the root module's own configuration, not an override.
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


# The plan-time read of the bot alias: before adoption en_US calls the unqualified function (recorded for removal).
override_data {
  target = module.lex_code_hook[0].data.aws_cloudcontrolapi_resource.bot_alias
  values = {
    properties = "{\"BotAliasId\":\"PRODALIAS1\",\"BotId\":\"ABCDE12345\",\"BotVersion\":\"1\",\"BotAliasLocaleSettings\":[{\"LocaleId\":\"en_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler\",\"CodeHookInterfaceVersion\":\"1.0\"}}}}]}"
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
  lex = {
    bot_id       = "ABCDE12345"
    bot_alias_id = "PRODALIAS1"
  }
}

run "code_hook_is_the_lex_handler_live_alias" {
  command = plan

  assert {
    condition     = module.lex_code_hook[0].code_hook_wanted_lambda_arn == module.lambda_function["LexFulfillmentHandler"].alias_arn
    error_message = "The code hook must be LexFulfillmentHandler's alias ARN."
  }

  assert {
    condition     = module.lex_code_hook[0].code_hook_wanted_lambda_arn != module.lambda_function["CreateLeadHandler"].alias_arn
    error_message = "The code hook must not be another function's alias."
  }

  assert {
    condition     = endswith(module.lex_code_hook[0].code_hook_wanted_lambda_arn, ":live") && module.lambda_function["LexFulfillmentHandler"].alias_name == "live"
    error_message = "The code hook ARN must be qualified with the live alias (never unqualified or $LATEST)."
  }

  assert {
    condition     = module.lex_code_hook[0].code_hook_locale_ids == tolist(["en_US"])
    error_message = "lex.locale_ids must default to en_US and reach the code hook's triggers."
  }

  assert {
    condition     = module.lex_code_hook[0].code_hook_interface_version == "1.0"
    error_message = "The code hook interface version must be 1.0."
  }
}

run "permission_is_scoped_to_the_live_alias_and_the_bot_alias" {
  command = plan

  assert {
    condition     = module.lex_code_hook[0].lambda_permission_statement.qualifier == "live"
    error_message = "The invoke permission must be on the live alias."
  }

  assert {
    condition     = module.lex_code_hook[0].lambda_permission_statement.principal == "lexv2.amazonaws.com"
    error_message = "The invoke permission must be for the Lex V2 service principal."
  }

  assert {
    condition     = module.lex_code_hook[0].lambda_permission_statement.function_name == module.lambda_function["LexFulfillmentHandler"].function_name
    error_message = "The invoke permission must be on LexFulfillmentHandler."
  }

  assert {
    condition     = module.lex_code_hook[0].lambda_permission_statement.source_arn == "arn:aws:lex:us-west-2:123456789012:bot-alias/ABCDE12345/PRODALIAS1"
    error_message = "The permission's source ARN must be the bot alias ARN."
  }

  assert {
    condition     = output.lex_bot_alias_arn == module.lex_code_hook[0].lambda_permission_statement.source_arn
    error_message = "lex_bot_alias_arn must be the ARN the permission trusts."
  }
}

run "locales_and_bot_version_pass_through" {
  command = plan

  variables {
    lex = {
      bot_id       = "ABCDE12345"
      bot_alias_id = "PRODALIAS1"
      locale_ids   = ["en_US", "es_US"]
      bot_version  = "3"
    }
    name_prefix = "dev-"
  }

  assert {
    condition     = module.lex_code_hook[0].code_hook_locale_ids == tolist(["en_US", "es_US"])
    error_message = "Every locale in lex.locale_ids must reach the code hook."
  }

  assert {
    condition     = module.lex_code_hook[0].lambda_permission_statement.function_name == "dev-LexFulfillmentHandler"
    error_message = "The permission must follow the prefixed function name."
  }
}

run "code_hook_runs_as_the_runner_by_default" {
  command = plan

  assert {
    condition     = module.lex_code_hook[0].code_hook_role_arn == null
    error_message = "Without lex_code_hook_role_arn the code hook script must assume no role."
  }
}

run "code_hook_role_reaches_the_module" {
  command = plan

  variables {
    lex_code_hook_role_arn = "arn:aws:iam::123456789012:role/atlas-engine-deployer"
  }

  assert {
    condition     = module.lex_code_hook[0].code_hook_role_arn == "arn:aws:iam::123456789012:role/atlas-engine-deployer"
    error_message = "lex_code_hook_role_arn must reach the lex_code_hook module's assume_role_arn (and its triggers)."
  }
}

run "rejects_a_code_hook_role_that_is_not_a_role_arn" {
  command = plan

  variables {
    lex_code_hook_role_arn = "atlas-engine-deployer"
  }

  expect_failures = [var.lex_code_hook_role_arn]
}

run "no_lex_leaves_lex_alone" {
  command = plan

  variables {
    lex = null
  }

  assert {
    condition     = length(module.lex_code_hook) == 0 && output.lex_code_hook_lambda_arn == null && output.lex_bot_alias_arn == null
    error_message = "With lex = null nothing Lex-related may be planned."
  }
}

run "rejects_a_malformed_bot_id" {
  command = plan

  variables {
    lex = {
      bot_id       = "abc"
      bot_alias_id = "PRODALIAS1"
    }
  }

  expect_failures = [var.lex]
}

run "rejects_a_malformed_bot_alias_id" {
  command = plan

  variables {
    lex = {
      bot_id       = "ABCDE12345"
      bot_alias_id = "TSTALIAS"
    }
  }

  expect_failures = [var.lex]
}

run "rejects_an_empty_locale_list" {
  command = plan

  variables {
    lex = {
      bot_id       = "ABCDE12345"
      bot_alias_id = "PRODALIAS1"
      locale_ids   = []
    }
  }

  expect_failures = [var.lex]
}

# Issue 7 sections 4 and 5 through the root: what removal does, and drift, are in the plan's outputs.

run "removal_puts_back_the_adopted_hook_by_default" {
  command = plan

  assert {
    condition     = output.lex_code_hook_on_removal == tomap({ en_US = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler" })
    error_message = "By default removal puts back the code hook the alias had at adoption (the mock: the unqualified function)."
  }

  assert {
    condition     = module.lex_code_hook[0].code_hook_wanted_lambda_arn == "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live"
    error_message = "The apply sets the live alias; removal then puts back the unqualified function."
  }
}

run "removal_can_be_told_to_keep_the_alias" {
  command = plan

  variables {
    lex = {
      bot_id               = "ABCDE12345"
      bot_alias_id         = "PRODALIAS1"
      code_hook_on_removal = "keep"
    }
  }

  assert {
    condition     = output.lex_code_hook_on_removal == tomap({ en_US = "left as it is" })
    error_message = "lex.code_hook_on_removal must reach the module."
  }
}

run "removal_target_must_be_restore_keep_or_a_lambda_arn" {
  command = plan

  variables {
    lex = {
      bot_id               = "ABCDE12345"
      bot_alias_id         = "PRODALIAS1"
      code_hook_on_removal = "LexFulfillmentHandler"
    }
  }

  expect_failures = [var.lex]
}
