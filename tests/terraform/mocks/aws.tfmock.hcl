# Shared by every root test (`mock_provider "aws" { source = "./tests/terraform/mocks" }`): the provider's
# identity data as us-west-2 in account 123456789012. The mock cannot render policy JSON, so policy documents
# are empty and the tests read the modules' statement outputs instead.

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

mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}

# GetInferenceProfile for the default model, us.anthropic.claude-haiku-5-5: the foundation model in each US Region
# the profile routes to. Tests of other profiles override it (tests/terraform/bedrock.tftest.hcl).
mock_data "aws_bedrock_inference_profile" {
  defaults = {
    type = "SYSTEM_DEFINED"
    models = [
      { model_arn = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-5-5" },
      { model_arn = "arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-haiku-5-5" },
      { model_arn = "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-haiku-5-5" },
    ]
  }
}

# The bot alias as Cloud Control GetResource (AWS::Lex::BotAlias) returns it once the module has set it: en_US
# calls LexFulfillmentHandler's live alias. The plan-time read, which records the
# hook found at adoption, is overridden in the test files to the unqualified function.
mock_data "aws_cloudcontrolapi_resource" {
  defaults = {
    properties = "{\"BotAliasId\":\"PRODALIAS1\",\"BotId\":\"ABCDE12345\",\"BotAliasName\":\"Production\",\"BotVersion\":\"1\",\"BotAliasLocaleSettings\":[{\"LocaleId\":\"en_US\",\"BotAliasLocaleSetting\":{\"Enabled\":true,\"CodeHookSpecification\":{\"LambdaCodeHook\":{\"LambdaArn\":\"arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live\",\"CodeHookInterfaceVersion\":\"1.0\"}}}}]}"
  }
}
