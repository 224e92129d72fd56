# Rollback (issue 3 section 5) through the root module: functions.<name>.alias_function_version pins a
# function's live alias to an earlier published version. Only that alias moves: no function is published,
# redeployed or replaced, LexFulfillmentHandler keeps its provisioned concurrency on the alias, and the alias ARN
# (what the Lex code hook and the Step Functions tasks invoke) stays the same. The plan's own rollback pointed
# Lex at $LATEST, which gave up provisioned concurrency; this one does not.
#
# These runs apply against a mocked provider, so every computed value an ARN-validating argument reads is given
# a realistic shape below. The Lex code hook's script runs as a local-exec provisioner on apply; `true` stands in
# for the Python interpreter so it exits 0 without calling AWS (tests/e2e and `make run` run the real script).

mock_provider "aws" {
  source = "./tests/terraform/mocks"

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mock-execution-role"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-west-2:123456789012:log-group:/mock"
    }
  }

  mock_resource "aws_sfn_state_machine" {
    defaults = {
      arn = "arn:aws:states:us-west-2:123456789012:stateMachine:AtlasEngineWorkflow"
    }
  }
}

# Each function as deployed: its latest published version, and the CodeSha256 Lambda reports (the manifest's)
# for it; the live alias takes the version the check read.
override_resource {
  target = module.lambda_function["LexFulfillmentHandler"].aws_lambda_function.this
  values = {
    arn     = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler"
    version = "29"
  }
}

override_data {
  target = module.lambda_function["LexFulfillmentHandler"].data.aws_lambda_function.deployed
  values = {
    code_sha256 = "gLkDQ+Hae6eHUhv2g44annWjl7q/2SNFRG4S/iz2WN4="
    version     = "29"
  }
}

override_resource {
  target = module.lambda_function["LexFulfillmentHandler"].aws_lambda_alias.live
  values = {
    arn = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live"
  }
}

override_resource {
  target = module.lambda_function["GenerateDynamicScenarioHandler"].aws_lambda_function.this
  values = {
    arn     = "arn:aws:lambda:us-west-2:123456789012:function:GenerateDynamicScenarioHandler"
    version = "12"
  }
}

override_data {
  target = module.lambda_function["GenerateDynamicScenarioHandler"].data.aws_lambda_function.deployed
  values = {
    code_sha256 = "UyJAuK/sSDRSVBaKGFRimdeqE0Tql9R4lj7+ISBBDo0="
    version     = "12"
  }
}

override_resource {
  target = module.lambda_function["GenerateDynamicScenarioHandler"].aws_lambda_alias.live
  values = {
    arn = "arn:aws:lambda:us-west-2:123456789012:function:GenerateDynamicScenarioHandler:live"
  }
}

override_resource {
  target = module.lambda_function["CreateLeadHandler"].aws_lambda_function.this
  values = {
    arn     = "arn:aws:lambda:us-west-2:123456789012:function:CreateLeadHandler"
    version = "5"
  }
}

override_data {
  target = module.lambda_function["CreateLeadHandler"].data.aws_lambda_function.deployed
  values = {
    code_sha256 = "LcvBRiXhaXn/NcFyVbDOfzlbpQ5jo3C7Zs3eSBp9xlU="
    version     = "5"
  }
}

override_resource {
  target = module.lambda_function["CreateLeadHandler"].aws_lambda_alias.live
  values = {
    arn = "arn:aws:lambda:us-west-2:123456789012:function:CreateLeadHandler:live"
  }
}

override_resource {
  target = module.lambda_function["InvokeOutboundCallHandler"].aws_lambda_function.this
  values = {
    arn     = "arn:aws:lambda:us-west-2:123456789012:function:InvokeOutboundCallHandler"
    version = "3"
  }
}

override_data {
  target = module.lambda_function["InvokeOutboundCallHandler"].data.aws_lambda_function.deployed
  values = {
    code_sha256 = "vW0UBe9oaiJOXM0k68w0KBqmnu6w/tvdywBDKvRbAMQ="
    version     = "3"
  }
}

override_resource {
  target = module.lambda_function["InvokeOutboundCallHandler"].aws_lambda_alias.live
  values = {
    arn = "arn:aws:lambda:us-west-2:123456789012:function:InvokeOutboundCallHandler:live"
  }
}

override_resource {
  target = module.lambda_function["UpdateLeadHandler"].aws_lambda_function.this
  values = {
    arn     = "arn:aws:lambda:us-west-2:123456789012:function:UpdateLeadHandler"
    version = "8"
  }
}

override_data {
  target = module.lambda_function["UpdateLeadHandler"].data.aws_lambda_function.deployed
  values = {
    code_sha256 = "nfDaIGJ0uaIfX+qYK3ltrwZ/5i8j64qJL9la94Vfsjw="
    version     = "8"
  }
}

override_resource {
  target = module.lambda_function["UpdateLeadHandler"].aws_lambda_alias.live
  values = {
    arn = "arn:aws:lambda:us-west-2:123456789012:function:UpdateLeadHandler:live"
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
  lex_code_hook_python = "true"
}

run "deploy" {
  command = apply

  assert {
    condition     = output.lambda_alias_versions["LexFulfillmentHandler"] == "29" && jsonencode(output.lambda_alias_versions) == jsonencode(output.lambda_published_versions)
    error_message = "Before any pin, each live alias follows its function's latest published version."
  }

  assert {
    condition     = module.lex_code_hook[0].code_hook_wanted_lambda_arn == "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live"
    error_message = "The Lex code hook must call LexFulfillmentHandler's live alias."
  }
}

run "pin_lex_to_28" {
  command = apply

  variables {
    functions = {
      LexFulfillmentHandler = {
        alias_function_version = "28"
      }
    }
  }

  assert {
    condition     = output.lambda_alias_versions["LexFulfillmentHandler"] == "28"
    error_message = "The pin must move LexFulfillmentHandler's live alias to version 28."
  }

  assert {
    condition     = output.lambda_published_versions["LexFulfillmentHandler"] == "29" && jsonencode(output.lambda_published_versions) == jsonencode(run.deploy.lambda_published_versions)
    error_message = "Rollback must not publish or redeploy any function: the latest published versions stay as they were."
  }

  assert {
    condition     = jsonencode(output.lambda_alias_arns) == jsonencode(run.deploy.lambda_alias_arns)
    error_message = "No alias ARN may change: Lex and Step Functions keep calling the same qualified ARNs."
  }

  assert {
    condition     = output.lex_code_hook_lambda_arn == run.deploy.lex_code_hook_lambda_arn
    error_message = "The Lex code hook must stay on the live alias ARN (its script is triggered only by a different ARN)."
  }

  assert {
    condition = (
      output.lambda_provisioned_concurrent_executions["LexFulfillmentHandler"] == 1 &&
      module.lambda_function["LexFulfillmentHandler"].provisioned_concurrency_config.qualifier == "live"
    )
    error_message = "Provisioned concurrency must stay on the live alias through the rollback."
  }

  assert {
    condition = alltrue([for name in ["GenerateDynamicScenarioHandler", "CreateLeadHandler", "InvokeOutboundCallHandler", "UpdateLeadHandler"] :
      output.lambda_alias_versions[name] == run.deploy.lambda_alias_versions[name]
    ])
    error_message = "A pin on one function must leave the other functions' aliases alone."
  }

  assert {
    condition = (
      module.lambda_function["LexFulfillmentHandler"].function_configuration.source_code_hash == "gLkDQ+Hae6eHUhv2g44annWjl7q/2SNFRG4S/iz2WN4=" &&
      module.lambda_function["LexFulfillmentHandler"].function_configuration.memory_size == 512 &&
      module.lambda_function["LexFulfillmentHandler"].function_configuration.tracing_mode == "Active"
    )
    error_message = "The function keeps the manifest's code and its configuration; only the alias moves."
  }
}

run "release_the_pin" {
  command = apply

  assert {
    condition     = output.lambda_alias_versions["LexFulfillmentHandler"] == "29" && output.lambda_alias_arns["LexFulfillmentHandler"] == run.deploy.lambda_alias_arns["LexFulfillmentHandler"]
    error_message = "Removing the pin must return the same alias to the latest published version."
  }
}
