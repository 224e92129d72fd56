# Rollback (issue 3 section 5): alias_function_version pins the live alias to an earlier published version.
# Only the alias moves: the function keeps its published version and code, provisioned concurrency stays on the
# alias, and the alias ARN that Lex and Step Functions invoke is unchanged. Unpinning returns to the latest.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/LexFulfillmentHandler"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-west-2:123456789012:log-group:/aws/lambda/LexFulfillmentHandler"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn           = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler"
      qualified_arn = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:29"
      version       = "29"
      code_sha256   = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
    }
  }

  mock_resource "aws_lambda_alias" {
    defaults = {
      arn = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live"
    }
  }

  mock_data "aws_lambda_function" {
    defaults = {
      code_sha256 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
      version     = "29"
    }
  }
}

variables {
  # The deploy waits record their arguments instead of calling AWS (tests/record_wait.sh).
  python_executable                 = abspath("tests/record_wait.sh")
  script_environment                = { ALIAS_WAIT_DIR = abspath(".terraform/alias_wait/rollback"), ALIAS_WAIT_RUN = "rollback" }
  function_name                     = "LexFulfillmentHandler"
  filename                          = "dist/LexFulfillmentHandler.zip"
  source_code_hash                  = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
  memory_size                       = 512
  provisioned_concurrent_executions = 1
}

run "deploy" {
  command = apply

  assert {
    condition     = aws_lambda_alias.live.function_version == "29"
    error_message = "Unpinned, the alias follows the published version."
  }
}

run "pin_to_28" {
  command = apply

  variables {
    alias_function_version = "28"
  }

  assert {
    condition     = aws_lambda_alias.live.function_version == "28" && output.alias_function_version == "28"
    error_message = "The pin must move the alias to version 28."
  }

  assert {
    condition     = output.alias_arn == run.deploy.alias_arn
    error_message = "The alias ARN (what Lex's code hook and Step Functions call) must not change on rollback."
  }

  assert {
    condition = (
      output.published_version == run.deploy.published_version &&
      aws_lambda_function.this.qualified_arn == "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:29" &&
      aws_lambda_function.this.source_code_hash == var.source_code_hash
    )
    error_message = "Rollback must not publish, redeploy or replace the function: version 29 stays the latest."
  }

  assert {
    condition = (
      length(aws_lambda_provisioned_concurrency_config.live) == 1 &&
      aws_lambda_provisioned_concurrency_config.live[0].qualifier == "live" &&
      aws_lambda_provisioned_concurrency_config.live[0].provisioned_concurrent_executions == 1
    )
    error_message = "Provisioned concurrency must stay on the alias through a rollback (unlike the plan's $LATEST rollback)."
  }
}

run "pinned_plan_is_stable" {
  command = plan

  variables {
    alias_function_version = "28"
  }

  assert {
    condition     = aws_lambda_alias.live.function_version == "28"
    error_message = "A pin must be known at plan time and stay put."
  }
}

run "unpin" {
  command = apply

  assert {
    condition     = aws_lambda_alias.live.function_version == "29" && output.alias_arn == run.deploy.alias_arn
    error_message = "Removing the pin must return the same alias to the latest published version."
  }
}
