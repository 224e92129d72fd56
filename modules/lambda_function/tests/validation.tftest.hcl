# Inputs the module must reject at plan time, before anything reaches AWS.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  function_name    = "dev-GenerateDynamicScenarioHandler"
  filename         = "dist/GenerateDynamicScenarioHandler.zip"
  source_code_hash = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
}

run "snap_start_with_provisioned_concurrency_is_rejected" {
  command = plan

  variables {
    snap_start                        = true
    provisioned_concurrent_executions = 1
  }

  expect_failures = [aws_lambda_function.this]
}

run "provisioned_above_reserved_is_rejected" {
  command = plan

  variables {
    reserved_concurrent_executions    = 1
    provisioned_concurrent_executions = 2
  }

  expect_failures = [aws_lambda_function.this]
}

run "memory_below_128_is_rejected" {
  command = plan

  variables {
    memory_size = 64
  }

  expect_failures = [var.memory_size]
}

run "memory_above_10240_is_rejected" {
  command = plan

  variables {
    memory_size = 10241
  }

  expect_failures = [var.memory_size]
}

run "timeout_out_of_range_is_rejected" {
  command = plan

  variables {
    timeout = 901
  }

  expect_failures = [var.timeout]
}

run "non_python_runtime_is_rejected" {
  command = plan

  variables {
    runtime = "nodejs20.x"
  }

  expect_failures = [var.runtime]
}

run "old_python_runtime_is_rejected" {
  command = plan

  variables {
    runtime = "python3.9"
  }

  expect_failures = [var.runtime]
}

run "unknown_architecture_is_rejected" {
  command = plan

  variables {
    architecture = "aarch64"
  }

  expect_failures = [var.architecture]
}

run "latest_alias_version_is_rejected" {
  command = plan

  variables {
    alias_function_version = "$LATEST"
  }

  expect_failures = [var.alias_function_version]
}

run "numeric_alias_name_is_rejected" {
  command = plan

  variables {
    alias_name = "28"
  }

  expect_failures = [var.alias_name]
}

run "latest_alias_name_is_rejected" {
  command = plan

  variables {
    alias_name = "$LATEST"
  }

  expect_failures = [var.alias_name]
}

run "retention_outside_cloudwatch_list_is_rejected" {
  command = plan

  variables {
    log_retention_in_days = 42
  }

  expect_failures = [var.log_retention_in_days]
}

run "negative_provisioned_concurrency_is_rejected" {
  command = plan

  variables {
    provisioned_concurrent_executions = -1
  }

  expect_failures = [var.provisioned_concurrent_executions]
}

run "reserved_below_minus_one_is_rejected" {
  command = plan

  variables {
    reserved_concurrent_executions = -2
  }

  expect_failures = [var.reserved_concurrent_executions]
}

run "hex_source_code_hash_is_rejected" {
  command = plan

  variables {
    source_code_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
  }

  expect_failures = [var.source_code_hash]
}

run "reserved_environment_key_is_rejected" {
  command = plan

  variables {
    environment_variables = {
      AWS_REGION = "us-west-2"
    }
  }

  expect_failures = [var.environment_variables]
}

run "wildcard_resource_is_rejected" {
  command = plan

  variables {
    policy_statements = {
      everything = {
        actions   = ["dynamodb:GetItem"]
        resources = ["*"]
      }
    }
  }

  expect_failures = [var.policy_statements]
}

run "whole_service_action_is_rejected" {
  command = plan

  variables {
    policy_statements = {
      table = {
        actions   = ["dynamodb:*"]
        resources = ["arn:aws:dynamodb:us-west-2:123456789012:table/AtlasEngineScenarios"]
      }
    }
  }

  expect_failures = [var.policy_statements]
}

run "invalid_function_name_is_rejected" {
  command = plan

  variables {
    function_name = "Atlas Engine!"
  }

  expect_failures = [var.function_name]
}

run "unknown_log_format_is_rejected" {
  command = plan

  variables {
    log_format = "XML"
  }

  expect_failures = [var.log_format]
}
