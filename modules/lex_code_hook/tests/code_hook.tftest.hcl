# Plan-level checks of the lex_code_hook module with a mocked AWS provider.
# Runs use command = plan, where local-exec never runs; the one apply run swaps the Python interpreter for
# tests/record_argv.sh, so the provisioner records its arguments instead of calling AWS.

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

  # Cloud Control GetResource of the alias as this module leaves it: both reads after the apply (the outputs'
  # and the check block's) see the live alias ARN on en_US. The plan-time read is overridden below.
  mock_data "aws_cloudcontrolapi_resource" {
    defaults = {
      properties = "{\"BotAliasId\":\"PRODALIAS1\",\"BotId\":\"ABCDE12345\",\"BotVersion\":\"1\",\"BotAliasLocaleSettings\":[{\"LocaleId\":\"en_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live\",\"CodeHookInterfaceVersion\":\"1.0\"}}}},{\"LocaleId\":\"es_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live\",\"CodeHookInterfaceVersion\":\"1.0\"}}}}]}"
    }
  }
}

# A copy whose reads all see the alias drifted (en_US back on the unqualified function), for the check block.
mock_provider "aws" {
  alias = "drifted"

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

  mock_data "aws_cloudcontrolapi_resource" {
    defaults = {
      properties = "{\"BotAliasId\":\"PRODALIAS1\",\"BotId\":\"ABCDE12345\",\"BotVersion\":\"1\",\"BotAliasLocaleSettings\":[{\"LocaleId\":\"en_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler\",\"CodeHookInterfaceVersion\":\"1.0\"}}}},{\"LocaleId\":\"es_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true}}]}"
    }
  }
}

# The plan-time read: the alias before adoption, en_US on the unqualified function and es_US with no code hook.
override_data {
  target = data.aws_cloudcontrolapi_resource.bot_alias
  values = {
    properties = "{\"BotAliasId\":\"PRODALIAS1\",\"BotId\":\"ABCDE12345\",\"BotVersion\":\"1\",\"BotAliasLocaleSettings\":[{\"LocaleId\":\"en_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler\",\"CodeHookInterfaceVersion\":\"1.0\"}}}},{\"LocaleId\":\"es_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true}}]}"
  }
}

variables {
  bot_id               = "ABCDE12345"
  bot_alias_id         = "PRODALIAS1"
  lambda_function_name = "LexFulfillmentHandler"
  lambda_alias_name    = "live"
  lambda_alias_arn     = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live"
}

run "permission_lets_the_bot_alias_invoke_the_lambda_alias" {
  command = plan

  assert {
    condition     = aws_lambda_permission.this.principal == "lexv2.amazonaws.com"
    error_message = "The permission must be granted to the Lex V2 service principal."
  }

  assert {
    condition     = aws_lambda_permission.this.action == "lambda:InvokeFunction"
    error_message = "The permission must allow lambda:InvokeFunction."
  }

  assert {
    condition     = aws_lambda_permission.this.function_name == "LexFulfillmentHandler" && aws_lambda_permission.this.qualifier == "live"
    error_message = "The permission must be on the function's live alias, not the unqualified function."
  }

  assert {
    condition     = aws_lambda_permission.this.source_arn == "arn:aws:lex:us-west-2:123456789012:bot-alias/ABCDE12345/PRODALIAS1"
    error_message = "The permission's source ARN must be the bot alias ARN built from the provider's partition, region and account."
  }

  assert {
    condition     = aws_lambda_permission.this.statement_id == "AllowLexV2BotAlias-PRODALIAS1"
    error_message = "The statement id must name the bot alias so two aliases can share the function."
  }

  assert {
    condition     = output.bot_alias_arn == aws_lambda_permission.this.source_arn
    error_message = "bot_alias_arn must be the ARN the permission trusts."
  }
}

run "code_hook_triggers_hold_everything_that_decides_the_result" {
  command = plan

  assert {
    condition     = terraform_data.code_hook.triggers_replace.lambda_arn == var.lambda_alias_arn
    error_message = "The Lambda alias ARN must be a trigger, so a new ARN re-runs the script."
  }

  assert {
    condition     = endswith(terraform_data.code_hook.triggers_replace.lambda_arn, ":live")
    error_message = "The code hook must be the qualified live alias ARN."
  }

  assert {
    condition     = terraform_data.code_hook.triggers_replace.locale_ids == tolist(["en_US"])
    error_message = "locale_ids must default to en_US and be a trigger."
  }

  assert {
    condition     = terraform_data.code_hook.triggers_replace.bot_id == "ABCDE12345" && terraform_data.code_hook.triggers_replace.bot_alias_id == "PRODALIAS1"
    error_message = "The bot and alias ids must be triggers."
  }

  assert {
    condition     = terraform_data.code_hook.triggers_replace.bot_version == null
    error_message = "Without bot_version the alias keeps its bot version."
  }

  assert {
    condition     = terraform_data.code_hook.triggers_replace.code_hook_interface_version == "1.0"
    error_message = "codeHookInterfaceVersion must default to 1.0."
  }

  assert {
    condition     = terraform_data.code_hook.triggers_replace.script_sha256 == filesha256("${path.module}/scripts/lex_code_hook.py")
    error_message = "A change to the script must re-run it: its hash is a trigger."
  }

  assert {
    condition     = terraform_data.code_hook.triggers_replace.assume_role_arn == null && output.code_hook_role_arn == null
    error_message = "Without assume_role_arn the script runs as the runner's credential chain."
  }
}

run "assume_role_arn_is_a_trigger" {
  command = plan

  variables {
    assume_role_arn = "arn:aws:iam::123456789012:role/atlas-engine-deployer"
  }

  assert {
    condition     = terraform_data.code_hook.triggers_replace.assume_role_arn == var.assume_role_arn
    error_message = "assume_role_arn must be a trigger, so another role re-runs the script."
  }

  assert {
    condition     = output.code_hook_role_arn == "arn:aws:iam::123456789012:role/atlas-engine-deployer"
    error_message = "code_hook_role_arn must be the role the script assumes."
  }
}

run "several_locales_and_a_bot_version" {
  command = plan

  variables {
    locale_ids  = ["en_US", "es_US"]
    bot_version = "7"
  }

  assert {
    condition     = terraform_data.code_hook.triggers_replace.locale_ids == tolist(["en_US", "es_US"])
    error_message = "Every requested locale must be a trigger."
  }

  assert {
    condition     = terraform_data.code_hook.triggers_replace.bot_version == "7"
    error_message = "bot_version must be a trigger."
  }

  assert {
    condition     = output.code_hook_locale_ids == tolist(["en_US", "es_US"])
    error_message = "code_hook_locale_ids must list the requested locales."
  }
}

run "partition_and_region_come_from_the_provider" {
  command = plan

  override_data {
    target = data.aws_partition.current
    values = {
      partition = "aws-cn"
    }
  }

  override_data {
    target = data.aws_region.current
    values = {
      name = "cn-north-1"
    }
  }

  variables {
    lambda_alias_arn = "arn:aws-cn:lambda:cn-north-1:123456789012:function:LexFulfillmentHandler:live"
  }

  assert {
    condition     = output.bot_alias_arn == "arn:aws-cn:lex:cn-north-1:123456789012:bot-alias/ABCDE12345/PRODALIAS1"
    error_message = "The bot alias ARN must use the provider's partition and region, never hard-coded ones."
  }
}

run "apply_hands_the_script_the_region_ids_locales_and_arn" {
  command = apply

  variables {
    locale_ids         = ["en_US", "es_US"]
    bot_version        = "7"
    assume_role_arn    = "arn:aws:iam::123456789012:role/deploy/atlas-engine-deployer"
    python_executable  = abspath("tests/record_argv.sh")
    script_environment = { LEX_CODE_HOOK_ARGV_FILE = abspath(".terraform/lex_code_hook_argv.txt") }
  }

  # What AWS reports after the script ran (the recorder changed nothing, so the read is stood in for).
  override_data {
    target = data.aws_cloudcontrolapi_resource.bot_alias_applied
    values = {
      properties = "{\"BotAliasId\":\"PRODALIAS1\",\"BotId\":\"ABCDE12345\",\"BotVersion\":\"7\",\"BotAliasLocaleSettings\":[{\"LocaleId\":\"en_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live\",\"CodeHookInterfaceVersion\":\"1.0\"}}}},{\"LocaleId\":\"es_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live\",\"CodeHookInterfaceVersion\":\"1.0\"}}}}]}"
    }
  }

  assert {
    condition     = output.code_hook_lambda_arn == var.lambda_alias_arn && output.code_hook_lambda_arns == tomap({ en_US = var.lambda_alias_arn, es_US = var.lambda_alias_arn })
    error_message = "After apply the outputs must be what AWS reports: the Lambda alias ARN on both locales."
  }
}

run "recorded_script_arguments" {
  command = plan

  assert {
    condition = split("\n", trimspace(file(abspath(".terraform/lex_code_hook_argv.txt")))) == tolist([
      "./scripts/lex_code_hook.py",
      "--region", "us-west-2",
      "--bot-id", "ABCDE12345",
      "--bot-alias-id", "PRODALIAS1",
      "--locale", "en_US",
      "--locale", "es_US",
      "--bot-version", "7",
      "--code-hook-interface-version", "1.0",
      "--role-arn", "arn:aws:iam::123456789012:role/deploy/atlas-engine-deployer",
      var.lambda_alias_arn,
    ])
    error_message = "The script must get the region, ids, every locale, the bot version, the role to assume and the ARN as separate arguments."
  }
}

run "apply_without_a_role_runs_the_script_as_the_runner" {
  command = apply

  variables {
    python_executable  = abspath("tests/record_argv.sh")
    script_environment = { LEX_CODE_HOOK_ARGV_FILE = abspath(".terraform/lex_code_hook_argv_no_role.txt") }
  }

  assert {
    condition     = output.code_hook_role_arn == null
    error_message = "Without assume_role_arn no role is recorded."
  }
}

run "recorded_script_arguments_without_a_role" {
  command = plan

  assert {
    condition = split("\n", trimspace(file(abspath(".terraform/lex_code_hook_argv_no_role.txt")))) == tolist([
      "./scripts/lex_code_hook.py",
      "--region", "us-west-2",
      "--bot-id", "ABCDE12345",
      "--bot-alias-id", "PRODALIAS1",
      "--locale", "en_US",
      "--code-hook-interface-version", "1.0",
      var.lambda_alias_arn,
    ])
    error_message = "Without assume_role_arn the script must get no --role-arn (nor --bot-version without bot_version)."
  }
}

run "rejects_a_malformed_bot_id" {
  command = plan

  variables {
    bot_id = "abcde12345"
  }

  expect_failures = [var.bot_id]
}

run "rejects_a_malformed_bot_alias_id" {
  command = plan

  variables {
    bot_alias_id = "TSTALIAS"
  }

  expect_failures = [var.bot_alias_id]
}

run "rejects_no_locales" {
  command = plan

  variables {
    locale_ids = []
  }

  expect_failures = [var.locale_ids]
}

run "rejects_a_malformed_locale" {
  command = plan

  variables {
    locale_ids = ["en-US"]
  }

  expect_failures = [var.locale_ids]
}

run "rejects_an_unqualified_lambda_arn" {
  command = plan

  variables {
    lambda_alias_arn = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler"
  }

  expect_failures = [var.lambda_alias_arn]
}

run "rejects_latest" {
  command = plan

  variables {
    lambda_alias_arn = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:$LATEST"
  }

  expect_failures = [var.lambda_alias_arn]
}

run "rejects_draft" {
  command = plan

  variables {
    bot_version = "DRAFT"
  }

  expect_failures = [var.bot_version]
}

run "rejects_a_malformed_role_arn" {
  command = plan

  variables {
    assume_role_arn = "arn:aws:iam::123456789012:user/deployer"
  }

  expect_failures = [var.assume_role_arn]
}

run "rejects_a_role_arn_with_a_short_account" {
  command = plan

  variables {
    assume_role_arn = "arn:aws:iam::12345:role/atlas-engine-deployer"
  }

  expect_failures = [var.assume_role_arn]
}

run "rejects_another_interface_version" {
  command = plan

  variables {
    code_hook_interface_version = "2.0"
  }

  expect_failures = [var.code_hook_interface_version]
}

################################################################################
# Issue 7 section 5: drift is read from AWS (Cloud Control GetResource) at plan time
################################################################################

run "the_outputs_report_what_aws_has_not_what_was_written" {
  command = apply

  variables {
    python_executable  = abspath("tests/record_argv.sh")
    script_environment = { LEX_CODE_HOOK_ARGV_FILE = abspath(".terraform/lex_code_hook_argv_drift.txt") }
  }

  # Someone put en_US back on the unqualified function right after the script ran.
  override_data {
    target = data.aws_cloudcontrolapi_resource.bot_alias_applied
    values = {
      properties = "{\"BotAliasId\":\"PRODALIAS1\",\"BotId\":\"ABCDE12345\",\"BotVersion\":\"1\",\"BotAliasLocaleSettings\":[{\"LocaleId\":\"en_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler\",\"CodeHookInterfaceVersion\":\"1.0\"}}}},{\"LocaleId\":\"es_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true}}]}"
    }
  }

  assert {
    condition     = output.code_hook_lambda_arn == "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler"
    error_message = "code_hook_lambda_arn must report the ARN AWS has, not the one last written."
  }

  assert {
    condition     = output.code_hook_drift == tolist(["en_US: arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler"])
    error_message = "code_hook_drift must report a locale AWS still has on another function after the apply."
  }
}

run "an_alias_as_wanted_shows_no_drift" {
  command = plan

  override_data {
    target = data.aws_cloudcontrolapi_resource.bot_alias
    values = {
      properties = "{\"BotAliasId\":\"PRODALIAS1\",\"BotId\":\"ABCDE12345\",\"BotVersion\":\"1\",\"BotAliasLocaleSettings\":[{\"LocaleId\":\"en_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live\",\"CodeHookInterfaceVersion\":\"1.0\"}}}},{\"LocaleId\":\"es_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true}}]}"
    }
  }

  override_data {
    target = data.aws_cloudcontrolapi_resource.bot_alias_applied
    values = {
      properties = "{\"BotAliasId\":\"PRODALIAS1\",\"BotId\":\"ABCDE12345\",\"BotVersion\":\"1\",\"BotAliasLocaleSettings\":[{\"LocaleId\":\"en_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live\",\"CodeHookInterfaceVersion\":\"1.0\"}}}},{\"LocaleId\":\"es_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true}}]}"
    }
  }

  assert {
    condition     = output.code_hook_drift == tolist([]) && terraform_data.code_hook.triggers_replace.code_hook_in_aws == "as wanted"
    error_message = "An alias that calls the live alias ARN has no drift, and the trigger stays \"as wanted\" (no replacement)."
  }

  assert {
    condition     = terraform_data.adoption["ABCDE12345/PRODALIAS1/en_US"].triggers_replace.recorded.lambdaARN == "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler" && output.code_hook_on_removal["en_US"] == "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler"
    error_message = "The hook recorded at adoption must survive later reads that see this module's own ARN."
  }
}

run "a_code_hook_changed_outside_terraform_is_drift" {
  command = plan

  providers = {
    aws = aws.drifted
  }

  # The trigger turns unknown, forcing the script to run again; the drifted locales are listed for the message.
  assert {
    condition     = jsonencode(local.drifted_locales) == jsonencode(["en_US"]) && !local.in_sync
    error_message = "A locale calling the unqualified function must be seen as drift at plan time."
  }
}

run "a_moved_bot_version_is_drift" {
  command = apply

  variables {
    bot_version        = "7"
    python_executable  = abspath("tests/record_argv.sh")
    script_environment = { LEX_CODE_HOOK_ARGV_FILE = abspath(".terraform/lex_code_hook_argv_version.txt") }
  }

  # AWS still reports bot version 1 after the apply (the recorder changed nothing).
  override_data {
    target = data.aws_cloudcontrolapi_resource.bot_alias_applied
    values = {
      properties = "{\"BotAliasId\":\"PRODALIAS1\",\"BotId\":\"ABCDE12345\",\"BotVersion\":\"1\",\"BotAliasLocaleSettings\":[{\"LocaleId\":\"en_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live\",\"CodeHookInterfaceVersion\":\"1.0\"}}}},{\"LocaleId\":\"es_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true}}]}"
    }
  }

  assert {
    condition     = output.code_hook_drift == tolist(["botVersion: 1"])
    error_message = "An alias on another bot version than bot_version is drift."
  }
}

################################################################################
# Issue 7 section 4: the hook found at adoption is recorded, and removal puts it back
################################################################################

run "adoption_records_the_code_hook_the_alias_had" {
  command = plan

  variables {
    locale_ids = ["en_US", "es_US"]
  }

  assert {
    condition     = terraform_data.adoption["ABCDE12345/PRODALIAS1/en_US"].triggers_replace.recorded.lambdaARN == "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler"
    error_message = "The code hook en_US had at adoption (the unqualified function) must be recorded."
  }

  assert {
    condition     = terraform_data.adoption["ABCDE12345/PRODALIAS1/es_US"].triggers_replace.recorded == null
    error_message = "A locale without a Lambda code hook at adoption is recorded as null."
  }

  assert {
    condition     = output.code_hook_on_removal == tomap({ en_US = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler", es_US = "no code hook" })
    error_message = "The plan's output must say what removal puts back on each locale."
  }

  assert {
    condition = (
      terraform_data.adoption["ABCDE12345/PRODALIAS1/en_US"].input.lambda_arn == var.lambda_alias_arn &&
      terraform_data.adoption["ABCDE12345/PRODALIAS1/en_US"].input.on_removal == "restore" &&
      jsonencode(terraform_data.adoption["ABCDE12345/PRODALIAS1/en_US"].input.argv) == jsonencode([
        "python3", "./scripts/lex_code_hook.py",
        "--region", "us-west-2", "--bot-id", "ABCDE12345", "--bot-alias-id", "PRODALIAS1",
        "--code-hook-interface-version", "1.0", "--remove", "--on-removal", "restore",
      ])
    )
    error_message = "The destroy-time provisioner can only read self: the removal command line must be recorded in it."
  }
}

run "removal_can_keep_the_alias_or_point_it_elsewhere" {
  command = plan

  variables {
    code_hook_on_removal = "keep"
  }

  assert {
    condition     = output.code_hook_on_removal == tomap({ en_US = "left as it is" })
    error_message = "code_hook_on_removal = keep must show that removal leaves the alias alone."
  }
}

run "removal_to_a_named_function" {
  command = plan

  variables {
    code_hook_on_removal = "arn:aws:lambda:us-west-2:123456789012:function:Fallback:3"
  }

  assert {
    condition     = output.code_hook_on_removal == tomap({ en_US = "arn:aws:lambda:us-west-2:123456789012:function:Fallback:3" }) && contains(terraform_data.adoption["ABCDE12345/PRODALIAS1/en_US"].input.argv, "arn:aws:lambda:us-west-2:123456789012:function:Fallback:3")
    error_message = "A Lambda ARN as code_hook_on_removal must be the removal target, in the plan and in the command line."
  }
}

run "adoption_of_an_alias_already_on_this_arn_needs_an_explicit_removal" {
  command = plan

  # Another alias, so the adoption is new (the earlier runs' record of PRODALIAS1 is kept in state).
  variables {
    bot_alias_id = "OTHERALIAS"
  }

  override_data {
    target = data.aws_cloudcontrolapi_resource.bot_alias
    values = {
      properties = "{\"BotAliasId\":\"PRODALIAS1\",\"BotId\":\"ABCDE12345\",\"BotVersion\":\"1\",\"BotAliasLocaleSettings\":[{\"LocaleId\":\"en_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live\",\"CodeHookInterfaceVersion\":\"1.0\"}}}},{\"LocaleId\":\"es_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true}}]}"
    }
  }

  expect_failures = [terraform_data.code_hook]
}

run "rejects_a_malformed_removal_target" {
  command = plan

  variables {
    code_hook_on_removal = "LexFulfillmentHandler"
  }

  expect_failures = [var.code_hook_on_removal]
}
