# Issue 8: every Bedrock model id form gets exactly the grant it needs, the per-model options are checked against
# lambda_src/atlas_shared/models.json, and switching models is the variable alone. Mocked provider in us-west-2,
# account 123456789012; GetInferenceProfile (data.aws_bedrock_inference_profile) answers per run.

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

run "default_is_haiku_5_5_through_the_us_profile_streamed" {
  command = plan

  assert {
    condition = toset(module.lambda_function["LexFulfillmentHandler"].role_policy_statements["bedrockmodel"].resources) == toset([
      "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-haiku-5-5",
      "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-5-5",
      "arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-haiku-5-5",
      "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-haiku-5-5",
    ])
    error_message = "A system profile needs the profile ARN and the foundation model in every Region it routes to."
  }

  assert {
    condition     = module.lambda_function["LexFulfillmentHandler"].role_policy_statements["bedrockmodel"].actions == tolist(["bedrock:InvokeModelWithResponseStream"])
    error_message = "Streaming turns (ConverseStream) need bedrock:InvokeModelWithResponseStream and nothing else."
  }

  assert {
    condition     = module.lambda_function["GenerateDynamicScenarioHandler"].role_policy_statements["bedrockmodel"].actions == tolist(["bedrock:InvokeModel"])
    error_message = "The scenario handler uses Converse: bedrock:InvokeModel only."
  }

  assert {
    condition = (
      module.lambda_function["GenerateDynamicScenarioHandler"].role_policy_statements["bedrockmodel"].resources ==
      module.lambda_function["LexFulfillmentHandler"].role_policy_statements["bedrockmodel"].resources
    )
    error_message = "Both Bedrock callers reach the same model."
  }

  assert {
    condition = alltrue([for k, v in {
      BEDROCK_MODEL_ID      = "us.anthropic.claude-haiku-5-5"
      BEDROCK_STREAM        = "true"
      BEDROCK_MAX_SENTENCES = "3"
    } : module.lambda_function["LexFulfillmentHandler"].function_configuration.environment_variables[k] == v])
    error_message = "The Lex handler gets the default model, streaming and three sentences."
  }

  assert {
    condition = length(setintersection(keys(module.lambda_function["GenerateDynamicScenarioHandler"].function_configuration.environment_variables), [
      "BEDROCK_STREAM", "BEDROCK_MAX_SENTENCES", "BEDROCK_LATENCY_OPTIMIZED", "BEDROCK_CACHE_SYSTEM_PROMPT", "BEDROCK_SERVICE_TIER", "BEDROCK_BASE_MODEL_ID",
    ])) == 0
    error_message = "The scenario handler keeps its own generation settings; options that are off are not set at all."
  }
}

run "foundation_model_id" {
  command = plan

  variables {
    bedrock = { model_id = "amazon.nova-micro-v1:0", turn = { streaming = false } }
  }

  assert {
    condition     = module.lambda_function["LexFulfillmentHandler"].role_policy_statements["bedrockmodel"].resources == tolist(["arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-micro-v1:0"])
    error_message = "A foundation-model id needs that model in this Region only."
  }

  assert {
    condition     = module.lambda_function["LexFulfillmentHandler"].role_policy_statements["bedrockmodel"].actions == tolist(["bedrock:InvokeModel"])
    error_message = "Without streaming the Lex handler uses Converse: bedrock:InvokeModel."
  }

  assert {
    condition     = length(data.aws_bedrock_inference_profile.model) == 0
    error_message = "No inference profile lookup for a foundation model."
  }
}

run "foundation_model_arn" {
  command = plan

  variables {
    bedrock = { model_id = "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0" }
  }

  assert {
    condition     = module.lambda_function["LexFulfillmentHandler"].role_policy_statements["bedrockmodel"].resources == tolist(["arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0"])
    error_message = "A foundation-model ARN is granted as given."
  }
}

run "nova_through_the_eu_profile_by_the_variable_alone" {
  command = plan

  variables {
    bedrock = { model_id = "eu.amazon.nova-micro-v1:0" }
  }

  override_data {
    target = data.aws_bedrock_inference_profile.model[0]
    values = {
      models = [
        { model_arn = "arn:aws:bedrock:eu-central-1::foundation-model/amazon.nova-micro-v1:0" },
        { model_arn = "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-micro-v1:0" },
        { model_arn = "arn:aws:bedrock:eu-west-3::foundation-model/amazon.nova-micro-v1:0" },
      ]
    }
  }

  assert {
    condition = toset(module.lambda_function["LexFulfillmentHandler"].role_policy_statements["bedrockmodel"].resources) == toset([
      "arn:aws:bedrock:us-west-2:123456789012:inference-profile/eu.amazon.nova-micro-v1:0",
      "arn:aws:bedrock:eu-central-1::foundation-model/amazon.nova-micro-v1:0",
      "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-micro-v1:0",
      "arn:aws:bedrock:eu-west-3::foundation-model/amazon.nova-micro-v1:0",
    ])
    error_message = "The profile's Regions come from Bedrock (GetInferenceProfile), not from a list kept here."
  }

  assert {
    condition = alltrue([for f in ["LexFulfillmentHandler", "GenerateDynamicScenarioHandler"] :
      module.lambda_function[f].function_configuration.environment_variables["BEDROCK_MODEL_ID"] == "eu.amazon.nova-micro-v1:0"
    ])
    error_message = "Switching to Nova is the variable alone: both handlers get the new model id."
  }
}

run "global_profile_also_needs_the_regionless_model" {
  command = plan

  variables {
    bedrock = { model_id = "global.anthropic.claude-haiku-5-5" }
  }

  assert {
    condition = toset(module.lambda_function["LexFulfillmentHandler"].role_policy_statements["bedrockmodel"].resources) == toset([
      "arn:aws:bedrock:us-west-2:123456789012:inference-profile/global.anthropic.claude-haiku-5-5",
      "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-5-5",
      "arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-haiku-5-5",
      "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-haiku-5-5",
      "arn:aws:bedrock:::foundation-model/anthropic.claude-haiku-5-5",
    ])
    error_message = "A global profile needs the profile, its Regions' models and the Region-less foundation-model ARN."
  }
}

run "inference_profile_arn" {
  command = plan

  variables {
    bedrock = { model_id = "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-haiku-5-5" }
  }

  assert {
    condition = toset(module.lambda_function["LexFulfillmentHandler"].role_policy_statements["bedrockmodel"].resources) == toset([
      "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-haiku-5-5",
      "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-5-5",
      "arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-haiku-5-5",
      "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-haiku-5-5",
    ])
    error_message = "An inference profile ARN is granted as given, plus its Regions' models."
  }
}

run "application_inference_profile_arn" {
  command = plan

  variables {
    bedrock = { model_id = "arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/k3z9qw1b7dxy" }
  }

  override_data {
    target = data.aws_bedrock_inference_profile.model[0]
    values = {
      type = "APPLICATION"
      models = [
        { model_arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0" },
        { model_arn = "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-lite-v1:0" },
      ]
    }
  }

  assert {
    condition = toset(module.lambda_function["LexFulfillmentHandler"].role_policy_statements["bedrockmodel"].resources) == toset([
      "arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/k3z9qw1b7dxy",
      "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
      "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-lite-v1:0",
    ])
    error_message = "An application profile needs its ARN and the models Bedrock says it routes to."
  }

  assert {
    condition     = module.lambda_function["LexFulfillmentHandler"].function_configuration.environment_variables["BEDROCK_BASE_MODEL_ID"] == "amazon.nova-lite-v1:0"
    error_message = "The handlers cannot tell the model behind an application profile from its ARN: Terraform passes it."
  }
}

run "provisioned_model_arn" {
  command = plan

  variables {
    bedrock = { model_id = "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/abcdef123456" }
  }

  assert {
    condition     = module.lambda_function["LexFulfillmentHandler"].role_policy_statements["bedrockmodel"].resources == tolist(["arn:aws:bedrock:us-west-2:123456789012:provisioned-model/abcdef123456"])
    error_message = "A provisioned model ARN is granted as given, nothing more."
  }

  assert {
    condition     = length(data.aws_bedrock_inference_profile.model) == 0
    error_message = "No inference profile lookup for a provisioned model."
  }
}

run "malformed_model_id_is_rejected" {
  command = plan

  variables {
    bedrock = { model_id = "claude haiku" }
  }

  expect_failures = [var.bedrock]
}

run "unknown_arn_kind_is_rejected" {
  command = plan

  variables {
    bedrock = { model_id = "arn:aws:bedrock:us-west-2:123456789012:custom-model/abc" }
  }

  expect_failures = [var.bedrock]
}

run "bare_name_without_provider_is_rejected" {
  command = plan

  variables {
    bedrock = { model_id = "claude-haiku-5-5" }
  }

  expect_failures = [var.bedrock]
}

run "max_sentences_must_be_1_to_10" {
  command = plan

  variables {
    bedrock = { turn = { max_sentences = 0 } }
  }

  expect_failures = [var.bedrock]
}

run "service_tier_is_refused_at_plan" {
  command = plan

  variables {
    bedrock = { service_tier = "priority" }
  }

  expect_failures = [var.bedrock]
}

run "latency_optimized_where_the_model_does_not_offer_it_is_refused" {
  command = plan

  variables {
    bedrock = { latency_optimized = true }
  }

  expect_failures = [terraform_data.bedrock_settings]
}

run "latency_optimized_nova_pro_in_us_east_2" {
  command = plan

  variables {
    bedrock = { model_id = "us.amazon.nova-pro-v1:0", latency_optimized = true }
  }

  override_data {
    target = data.aws_region.current
    values = { name = "us-east-2" }
  }

  override_data {
    target = data.aws_bedrock_inference_profile.model[0]
    values = {
      models = [
        { model_arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0" },
        { model_arn = "arn:aws:bedrock:us-east-2::foundation-model/amazon.nova-pro-v1:0" },
        { model_arn = "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0" },
      ]
    }
  }

  assert {
    condition = alltrue([for f in ["LexFulfillmentHandler", "GenerateDynamicScenarioHandler"] :
      module.lambda_function[f].function_configuration.environment_variables["BEDROCK_LATENCY_OPTIMIZED"] == "true"
    ])
    error_message = "latency_optimized reaches both Bedrock callers."
  }
}

run "prompt_caching_for_a_model_that_takes_it" {
  command = plan

  variables {
    bedrock = { cache_system_prompt = true }
  }

  assert {
    condition     = module.lambda_function["LexFulfillmentHandler"].function_configuration.environment_variables["BEDROCK_CACHE_SYSTEM_PROMPT"] == "true"
    error_message = "cache_system_prompt reaches the handlers."
  }
}

run "prompt_caching_for_a_model_without_it_is_refused" {
  command = plan

  variables {
    bedrock = { model_id = "meta.llama3-1-8b-instruct-v1:0", cache_system_prompt = true }
  }

  expect_failures = [terraform_data.bedrock_settings]
}
