# Root module wiring of the five functions (issue 2 section 4): what the root passes to modules/lambda_function
# for each handler, planned with a mocked AWS provider in us-west-2. The module's own suites
# (modules/lambda_function/tests) cover the module's behaviour in depth.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

# Published versions as the provider would report them after apply (a mock leaves them unknown in a plan),
# different per function so a cross-wired alias would show.
override_resource {
  target          = module.lambda_function["LexFulfillmentHandler"].aws_lambda_function.this
  override_during = plan
  values = {
    arn     = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler"
    version = "29"
  }
}

override_resource {
  target          = module.lambda_function["GenerateDynamicScenarioHandler"].aws_lambda_function.this
  override_during = plan
  values = {
    arn     = "arn:aws:lambda:us-west-2:123456789012:function:GenerateDynamicScenarioHandler"
    version = "12"
  }
}

override_resource {
  target          = module.lambda_function["CreateLeadHandler"].aws_lambda_function.this
  override_during = plan
  values = {
    arn     = "arn:aws:lambda:us-west-2:123456789012:function:CreateLeadHandler"
    version = "5"
  }
}

override_resource {
  target          = module.lambda_function["InvokeOutboundCallHandler"].aws_lambda_function.this
  override_during = plan
  values = {
    arn     = "arn:aws:lambda:us-west-2:123456789012:function:InvokeOutboundCallHandler"
    version = "3"
  }
}

override_resource {
  target          = module.lambda_function["UpdateLeadHandler"].aws_lambda_function.this
  override_during = plan
  values = {
    arn     = "arn:aws:lambda:us-west-2:123456789012:function:UpdateLeadHandler"
    version = "8"
  }
}

# The log group ARN as CloudWatch Logs reports it (the provider strips the trailing ":*").
override_resource {
  target          = module.lambda_function["LexFulfillmentHandler"].aws_cloudwatch_log_group.lambda
  override_during = plan
  values = {
    arn = "arn:aws:logs:us-west-2:123456789012:log-group:/aws/lambda/LexFulfillmentHandler"
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

run "five_functions_from_the_manifest" {
  command = plan

  assert {
    condition = toset(keys(module.lambda_function)) == toset([
      "LexFulfillmentHandler", "GenerateDynamicScenarioHandler", "CreateLeadHandler",
      "InvokeOutboundCallHandler", "UpdateLeadHandler",
    ])
    error_message = "The root must deploy exactly the five handlers."
  }

  assert {
    condition = alltrue([for name, m in module.lambda_function :
      m.function_name == name && m.log_group_name == "/aws/lambda/${name}" && m.function_configuration.log_group == "/aws/lambda/${name}"
    ])
    error_message = "Without prefix or suffix, each function and its log group are named after the handler key, and the function logs there."
  }

  assert {
    condition = (
      module.lambda_function["LexFulfillmentHandler"].function_configuration.filename == "tests/terraform/fixtures/LexFulfillmentHandler.zip" &&
      module.lambda_function["LexFulfillmentHandler"].function_configuration.source_code_hash == "gLkDQ+Hae6eHUhv2g44annWjl7q/2SNFRG4S/iz2WN4=" &&
      module.lambda_function["CreateLeadHandler"].function_configuration.source_code_hash == "LcvBRiXhaXn/NcFyVbDOfzlbpQ5jo3C7Zs3eSBp9xlU="
    )
    error_message = "Each function's zip (relative to the manifest's folder) and base64 SHA-256 come from its own manifest entry."
  }

  assert {
    condition = alltrue([for m in module.lambda_function :
      m.function_configuration.handler == "lambda_function.lambda_handler" &&
      m.function_configuration.runtime == "python3.12" &&
      m.function_configuration.architecture == "x86_64" &&
      m.function_configuration.publish
    ])
    error_message = "Handler, runtime and architecture come from the manifest, and every function publishes versions."
  }
}

run "tracing_active_on_all_five" {
  command = plan

  assert {
    condition     = length(module.lambda_function) == 5 && alltrue([for m in module.lambda_function : m.function_configuration.tracing_mode == "Active"])
    error_message = "X-Ray tracing must be Active on all five functions (Task 5)."
  }

  assert {
    condition = alltrue([for m in module.lambda_function :
      m.role_policy_statements["WriteXRayTraces"].actions == tolist(["xray:PutTelemetryRecords", "xray:PutTraceSegments"])
    ])
    error_message = "Every role must be allowed to write traces."
  }
}

# Each alias takes the version the CodeSha256 check read back (issue 7 section 3), which a plan of a first
# deploy cannot know yet: rollback.tftest.hcl's applied runs check alias == published version.
run "aliases_point_at_the_published_versions" {
  command = plan

  assert {
    condition     = alltrue([for m in module.lambda_function : m.alias_name == "live"])
    error_message = "Each function's alias must be live."
  }

  assert {
    condition = jsonencode(output.lambda_published_versions) == jsonencode({
      LexFulfillmentHandler          = "29"
      GenerateDynamicScenarioHandler = "12"
      CreateLeadHandler              = "5"
      InvokeOutboundCallHandler      = "3"
      UpdateLeadHandler              = "8"
    })
    error_message = "lambda_published_versions must report each function's own version."
  }
}

run "memory_and_timeouts" {
  command = plan

  assert {
    condition = (
      module.lambda_function["LexFulfillmentHandler"].function_configuration.memory_size == 512 &&
      module.lambda_function["GenerateDynamicScenarioHandler"].function_configuration.memory_size == 512 &&
      module.lambda_function["CreateLeadHandler"].function_configuration.memory_size == 256 &&
      module.lambda_function["InvokeOutboundCallHandler"].function_configuration.memory_size == 256 &&
      module.lambda_function["UpdateLeadHandler"].function_configuration.memory_size == 256
    )
    error_message = "Memory must be 512 MB for LexFulfillmentHandler and GenerateDynamicScenarioHandler (Task 6), 256 MB for the rest."
  }

  assert {
    condition = (
      module.lambda_function["GenerateDynamicScenarioHandler"].function_configuration.timeout == 60 &&
      module.lambda_function["LexFulfillmentHandler"].function_configuration.timeout == 30 &&
      module.lambda_function["InvokeOutboundCallHandler"].function_configuration.timeout == 60
    )
    error_message = "Timeouts must follow the root's per-function defaults."
  }

  assert {
    condition = alltrue([for m in module.lambda_function :
      !m.function_configuration.snap_start && m.function_configuration.reserved_concurrent_executions == -1
    ])
    error_message = "SnapStart and reserved concurrency are off unless var.functions turns them on."
  }
}

run "provisioned_concurrency_on_the_lex_alias_only" {
  command = plan

  assert {
    condition = module.lambda_function["LexFulfillmentHandler"].provisioned_concurrency_config == {
      function_name                     = "LexFulfillmentHandler"
      qualifier                         = "live"
      provisioned_concurrent_executions = 1
    }
    error_message = "LexFulfillmentHandler must have 1 provisioned concurrent execution on its live alias (Task 1), never on a version number or $LATEST."
  }

  assert {
    condition     = module.lambda_function["LexFulfillmentHandler"].provisioned_concurrency_config.qualifier == module.lambda_function["LexFulfillmentHandler"].alias_name
    error_message = "The provisioned concurrency qualifier must be the alias the code hook calls."
  }

  assert {
    condition = alltrue([for name, m in module.lambda_function :
      m.provisioned_concurrency_config == null && m.provisioned_concurrent_executions == 0 if name != "LexFulfillmentHandler"
    ])
    error_message = "0 (the default elsewhere) must configure no provisioned concurrency."
  }

  assert {
    condition     = output.lambda_provisioned_concurrent_executions["LexFulfillmentHandler"] == 1 && output.lambda_provisioned_concurrent_executions["CreateLeadHandler"] == 0
    error_message = "The root output must report provisioned concurrency per function."
  }
}

run "environment_carries_the_settings" {
  command = plan

  assert {
    condition = module.lambda_function["LexFulfillmentHandler"].function_configuration.environment_variables == tomap({
      LOG_LEVEL                          = "INFO"
      METRICS_NAMESPACE                  = "AtlasEngine"
      SALESFORCE_SECRET_ARN              = "arn:aws:secretsmanager:us-west-2:123456789012:secret:atlasengine/salesforce-AbCdEf"
      SECRETS_CACHE_TTL_SECONDS          = "300"
      SALESFORCE_SESSION_TIMEOUT_MINUTES = "120"
      SCENARIO_TABLE_NAME                = "AtlasEngineScenarios"
      BEDROCK_MODEL_ID                   = "us.anthropic.claude-haiku-5-5"
      BEDROCK_MAX_TOKENS                 = "150"
      BEDROCK_TEMPERATURE                = "0.7"
      BEDROCK_MAX_SENTENCES              = "3"
      BEDROCK_STREAM                     = "true"
      CONVERSATION_HISTORY_TURNS         = "6"
      INTERACTION_KEY_ATTRIBUTES         = "[\"interactionKey\"]"
      SCENARIO_KEY_LAYOUTS               = "[{\"key_pattern\":\"^[A-Za-z0-9_-]{8,128}$\",\"partition_key\":\"INTERACTION#{key}\",\"sort_key\":\"SCENARIO\"}]"
    })
    error_message = "LexFulfillmentHandler's environment must carry docs/contracts.md's settings (max_tokens 150, temperature 0.7, TTL 300)."
  }

  assert {
    condition = (
      module.lambda_function["GenerateDynamicScenarioHandler"].function_configuration.environment_variables["BEDROCK_MAX_TOKENS"] == "200" &&
      module.lambda_function["GenerateDynamicScenarioHandler"].function_configuration.environment_variables["BEDROCK_TEMPERATURE"] == "0.8"
    )
    error_message = "GenerateDynamicScenarioHandler must use max_tokens 200 and temperature 0.8."
  }

  assert {
    condition = module.lambda_function["InvokeOutboundCallHandler"].function_configuration.environment_variables == tomap({
      LOG_LEVEL               = "INFO"
      METRICS_NAMESPACE       = "AtlasEngine"
      CONNECT_INSTANCE_ID     = "11111111-2222-3333-4444-555555555555"
      CONNECT_CONTACT_FLOW_ID = "66666666-7777-8888-9999-000000000000"
      CONNECT_QUEUE_ID        = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
      IDEMPOTENCY_TABLE_NAME  = "AtlasEngineScenarios"
    })
    error_message = "InvokeOutboundCallHandler gets the Connect ids, the idempotency table, and no unset source phone number."
  }

  assert {
    condition = alltrue([for name in ["CreateLeadHandler", "InvokeOutboundCallHandler", "UpdateLeadHandler"] :
      module.lambda_function[name].function_configuration.environment_variables["IDEMPOTENCY_TABLE_NAME"] == "AtlasEngineScenarios"
    ]) && !contains(keys(module.lambda_function["LexFulfillmentHandler"].function_configuration.environment_variables), "IDEMPOTENCY_TABLE_NAME")
    error_message = "The three workflow tasks with side effects keep their idempotency records in the scenario table."
  }
}

run "metrics_namespace_reaches_every_function_and_the_dashboard" {
  command = plan

  variables {
    metrics_namespace = "Atlas/Prod"
  }

  assert {
    condition = length(module.lambda_function) == 5 && alltrue([for name, m in module.lambda_function :
      m.function_configuration.environment_variables["METRICS_NAMESPACE"] == "Atlas/Prod"
    ])
    error_message = "Every function must get METRICS_NAMESPACE = var.metrics_namespace (the handlers' EMF metrics land there)."
  }

  assert {
    condition     = output.post_deploy_validation.metrics_namespace == "Atlas/Prod"
    error_message = "post_deploy_validation must carry the metrics namespace for validate.py."
  }

  assert {
    condition = alltrue([for q in module.monitoring.alarm_configurations["LexFulfillmentHandler-cold-start-rate"].metric_queries :
      q.metric.namespace == "Atlas/Prod" if q.metric != null && try(q.metric.metric_name, "") == "ColdStart"
    ]) && length(module.monitoring.alarm_configurations["LexFulfillmentHandler-cold-start-rate"].metric_queries) == 4
    error_message = "The monitoring module must read the handlers' metrics from var.metrics_namespace."
  }
}

run "aws_metrics_namespace_is_rejected" {
  command = plan

  variables {
    metrics_namespace = "AWS/Lambda"
  }

  expect_failures = [var.metrics_namespace]
}

run "lead_external_id_field_reaches_create_lead_only" {
  command = plan

  variables {
    salesforce_lead_external_id_field = "Atlas_Idempotency_Key__c"
  }

  assert {
    condition     = module.lambda_function["CreateLeadHandler"].function_configuration.environment_variables["SALESFORCE_LEAD_EXTERNAL_ID_FIELD"] == "Atlas_Idempotency_Key__c"
    error_message = "CreateLeadHandler must get SALESFORCE_LEAD_EXTERNAL_ID_FIELD so it upserts the Lead on the execution name."
  }

  assert {
    condition     = !contains(keys(module.lambda_function["UpdateLeadHandler"].function_configuration.environment_variables), "SALESFORCE_LEAD_EXTERNAL_ID_FIELD")
    error_message = "Only CreateLeadHandler creates Leads, so only it gets the external id field."
  }
}

run "lead_external_id_field_must_be_a_custom_field" {
  command = plan

  variables {
    salesforce_lead_external_id_field = "Email"
  }

  expect_failures = [var.salesforce_lead_external_id_field]
}

run "least_privilege_per_function" {
  command = plan

  assert {
    condition = jsonencode(module.lambda_function["LexFulfillmentHandler"].role_policy_statements) == jsonencode({
      WriteOwnLogGroup = {
        actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        resources = ["arn:aws:logs:us-west-2:123456789012:log-group:/aws/lambda/LexFulfillmentHandler:*"]
      }
      WriteXRayTraces = {
        actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
        resources = ["*"]
      }
      bedrockmodel = {
        actions = ["bedrock:InvokeModelWithResponseStream"]
        resources = [
          "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-5-5",
          "arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-haiku-5-5",
          "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-haiku-5-5",
          "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-haiku-5-5",
        ]
      }
      salesforcesecret = {
        actions   = ["secretsmanager:GetSecretValue"]
        resources = ["arn:aws:secretsmanager:us-west-2:123456789012:secret:atlasengine/salesforce-AbCdEf"]
      }
      scenariotable = {
        actions   = ["dynamodb:GetItem"]
        resources = ["arn:aws:dynamodb:us-west-2:123456789012:table/AtlasEngineScenarios"]
      }
    })
    error_message = "LexFulfillmentHandler's role: its own log group, X-Ray, the model, the secret and reading the table; nothing else."
  }

  assert {
    condition = (
      keys(module.lambda_function["GenerateDynamicScenarioHandler"].role_policy_statements) == ["WriteOwnLogGroup", "WriteXRayTraces", "bedrockmodel", "scenariotable"] &&
      module.lambda_function["GenerateDynamicScenarioHandler"].role_policy_statements["scenariotable"].actions == tolist(["dynamodb:PutItem"])
    )
    error_message = "GenerateDynamicScenarioHandler may only write the table and call the model (no secret)."
  }

  assert {
    condition = (
      keys(module.lambda_function["InvokeOutboundCallHandler"].role_policy_statements) == ["WriteOwnLogGroup", "WriteXRayTraces", "connectoutbound", "idempotencyrecord"] &&
      jsonencode(module.lambda_function["InvokeOutboundCallHandler"].role_policy_statements["connectoutbound"]) == jsonencode({
        actions   = ["connect:StartOutboundVoiceContact"]
        resources = ["arn:aws:connect:us-west-2:123456789012:instance/11111111-2222-3333-4444-555555555555/contact/*"]
      })
    )
    error_message = "InvokeOutboundCallHandler may only start contacts on the configured Connect instance."
  }

  assert {
    condition = alltrue([for name in ["CreateLeadHandler", "UpdateLeadHandler"] :
      keys(module.lambda_function[name].role_policy_statements) == ["WriteOwnLogGroup", "WriteXRayTraces", "idempotencyrecord", "salesforcesecret"]
    ])
    error_message = "The Salesforce lead handlers may only read the secret and keep their idempotency records (plus their own logs and X-Ray)."
  }

  assert {
    condition = alltrue([for name in ["CreateLeadHandler", "InvokeOutboundCallHandler", "UpdateLeadHandler"] :
      jsonencode(module.lambda_function[name].role_policy_statements["idempotencyrecord"]) == jsonencode({
        actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        resources = ["arn:aws:dynamodb:us-west-2:123456789012:table/AtlasEngineScenarios"]
      })
    ])
    error_message = "The idempotency record needs exactly PutItem, GetItem, UpdateItem and DeleteItem on the scenario table (Powertools' DynamoDB persistence layer)."
  }
}

run "per_function_overrides_and_names" {
  command = plan

  variables {
    name_prefix = "dev-"
    name_suffix = "-eu"
    functions = {
      GenerateDynamicScenarioHandler = {
        memory_size = 1024
        timeout     = 90
      }
      CreateLeadHandler = {
        snap_start                     = true
        reserved_concurrent_executions = 10
      }
      LexFulfillmentHandler = {
        provisioned_concurrent_executions = 3
      }
    }
  }

  assert {
    condition = (
      module.lambda_function["GenerateDynamicScenarioHandler"].function_configuration.memory_size == 1024 &&
      module.lambda_function["GenerateDynamicScenarioHandler"].function_configuration.timeout == 90 &&
      module.lambda_function["LexFulfillmentHandler"].function_configuration.memory_size == 512 &&
      module.lambda_function["CreateLeadHandler"].function_configuration.memory_size == 256
    )
    error_message = "var.functions overrides must change only the function and field they name."
  }

  assert {
    condition = (
      module.lambda_function["CreateLeadHandler"].function_configuration.snap_start &&
      module.lambda_function["CreateLeadHandler"].function_configuration.reserved_concurrent_executions == 10 &&
      !module.lambda_function["UpdateLeadHandler"].function_configuration.snap_start
    )
    error_message = "SnapStart and reserved concurrency must reach only the function they are set on."
  }

  assert {
    condition     = module.lambda_function["LexFulfillmentHandler"].provisioned_concurrency_config.provisioned_concurrent_executions == 3
    error_message = "The provisioned concurrency override must reach the Lex alias."
  }

  assert {
    condition = (
      module.lambda_function["LexFulfillmentHandler"].function_name == "dev-LexFulfillmentHandler-eu" &&
      module.lambda_function["LexFulfillmentHandler"].log_group_name == "/aws/lambda/dev-LexFulfillmentHandler-eu" &&
      module.lambda_function["LexFulfillmentHandler"].role_name == "dev-LexFulfillmentHandler-eu"
    )
    error_message = "name_prefix and name_suffix must reach the function, log group and role names."
  }
}

run "snap_start_with_provisioned_concurrency_is_rejected" {
  command = plan

  variables {
    functions = {
      LexFulfillmentHandler = {
        snap_start = true
      }
    }
  }

  expect_failures = [var.functions]
}

run "snap_start_with_explicit_provisioned_concurrency_is_rejected" {
  command = plan

  variables {
    functions = {
      CreateLeadHandler = {
        snap_start                        = true
        provisioned_concurrent_executions = 2
      }
    }
  }

  expect_failures = [var.functions]
}

run "snap_start_on_lex_without_provisioned_concurrency_is_allowed" {
  command = plan

  variables {
    functions = {
      LexFulfillmentHandler = {
        snap_start                        = true
        provisioned_concurrent_executions = 0
      }
    }
  }

  assert {
    condition     = module.lambda_function["LexFulfillmentHandler"].function_configuration.snap_start && module.lambda_function["LexFulfillmentHandler"].provisioned_concurrency_config == null
    error_message = "SnapStart instead of provisioned concurrency is a valid choice for the Lex handler."
  }
}

run "memory_below_128_is_rejected" {
  command = plan

  variables {
    functions = {
      GenerateDynamicScenarioHandler = {
        memory_size = 64
      }
    }
  }

  expect_failures = [var.functions]
}

run "latest_pin_is_rejected" {
  command = plan

  variables {
    functions = {
      LexFulfillmentHandler = {
        alias_function_version = "$LATEST"
      }
    }
  }

  expect_failures = [var.functions]
}
