# Deploy safety (issue 7): the waits around provisioned concurrency and the CodeSha256 check gating the alias.
# (A leftover routing weight showing in the plan needs the real provider's read of the alias:
# tests/e2e/test_lambda_function_moto.py checks it against the local AWS.) The waits run tests/record_wait.sh
# instead of scripts/alias_wait.py: each writes "<ALIAS_WAIT_RUN> <arguments>" to .terraform/alias_wait/deploy/<mode>, so a run sees whether the wait ran
# during it. scripts/alias_wait.py itself is tested against the local AWS in tests/functional/lambda_function.

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
      arn         = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler"
      version     = "7"
      code_sha256 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
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
      version     = "7"
    }
  }
}

variables {
  function_name                     = "LexFulfillmentHandler"
  filename                          = "dist/LexFulfillmentHandler.zip"
  source_code_hash                  = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
  provisioned_concurrent_executions = 1
  python_executable                 = abspath("tests/record_wait.sh")
  wait_timeout_seconds              = 600
}

run "first_rollout_waits_for_weights_then_ready" {
  command = apply

  variables {
    script_environment = { ALIAS_WAIT_DIR = abspath(".terraform/alias_wait/deploy"), ALIAS_WAIT_RUN = "first_rollout" }
  }

  assert {
    condition     = trimspace(file("${var.script_environment.ALIAS_WAIT_DIR}/no-weights")) == "first_rollout ./scripts/alias_wait.py --timeout 600 --until no-weights ${output.alias_arn}"
    error_message = "Before the provisioned concurrency is set, the apply must wait (bounded) for the alias to have no routing weights."
  }

  assert {
    condition     = trimspace(file("${var.script_environment.ALIAS_WAIT_DIR}/ready")) == "first_rollout ./scripts/alias_wait.py --timeout 600 --until ready ${output.alias_arn}"
    error_message = "After the provisioned concurrency is set, the apply must wait (bounded) for READY."
  }

  assert {
    condition     = output.ready_alias_arn == output.alias_arn && output.provisioned_concurrency_ready_id != null
    error_message = "ready_alias_arn is the alias ARN, given out once the READY wait is over."
  }
}

run "version_move_waits_for_ready" {
  command = apply

  variables {
    memory_size        = 1024
    script_environment = { ALIAS_WAIT_DIR = abspath(".terraform/alias_wait/deploy"), ALIAS_WAIT_RUN = "version_move" }
  }

  override_data {
    target = data.aws_lambda_function.deployed
    values = {
      code_sha256 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
      version     = "8"
    }
  }

  assert {
    condition     = aws_lambda_alias.live.function_version == "8"
    error_message = "The alias follows the checked, newly published version."
  }

  assert {
    condition     = startswith(file("${var.script_environment.ALIAS_WAIT_DIR}/no-weights"), "version_move ") && startswith(file("${var.script_environment.ALIAS_WAIT_DIR}/ready"), "version_move ")
    error_message = "A version move must wait for the weights to clear and, by default, for READY again."
  }
}

# Turning the READY wait off changes its triggers (one more wait); the version move after that must not wait.
run "turn_off_ready_wait" {
  command = apply

  variables {
    memory_size                                         = 1024
    wait_for_provisioned_concurrency_after_version_move = false
    script_environment                                  = { ALIAS_WAIT_DIR = abspath(".terraform/alias_wait/deploy"), ALIAS_WAIT_RUN = "turn_off" }
  }

  override_data {
    target = data.aws_lambda_function.deployed
    values = {
      code_sha256 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
      version     = "8"
    }
  }
}

run "version_move_without_ready_wait" {
  command = apply

  variables {
    memory_size                                         = 2048
    wait_for_provisioned_concurrency_after_version_move = false
    script_environment                                  = { ALIAS_WAIT_DIR = abspath(".terraform/alias_wait/deploy"), ALIAS_WAIT_RUN = "no_ready_wait" }
  }

  override_data {
    target = data.aws_lambda_function.deployed
    values = {
      code_sha256 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
      version     = "9"
    }
  }

  assert {
    condition     = startswith(file("${var.script_environment.ALIAS_WAIT_DIR}/no-weights"), "no_ready_wait ")
    error_message = "The weights wait runs on every version move of an alias with provisioned concurrency."
  }

  assert {
    condition     = !startswith(file("${var.script_environment.ALIAS_WAIT_DIR}/ready"), "no_ready_wait ")
    error_message = "With wait_for_provisioned_concurrency_after_version_move = false, a version move must not wait for READY."
  }
}

run "tampered_zip_fails_before_the_alias_moves" {
  command = apply

  variables {
    source_code_hash   = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    script_environment = { ALIAS_WAIT_DIR = abspath(".terraform/alias_wait/deploy"), ALIAS_WAIT_RUN = "tampered" }
  }

  # Lambda reports the hash of the zip that was really uploaded, for the version just published.
  override_data {
    target = data.aws_lambda_function.deployed
    values = {
      code_sha256 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
      version     = "10"
    }
  }

  expect_failures = [data.aws_lambda_function.deployed]
}

run "live_stays_on_the_previous_version" {
  command = apply

  plan_options {
    mode = refresh-only
  }

  variables {
    source_code_hash = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
  }

  override_data {
    target = data.aws_lambda_function.deployed
    values = {
      code_sha256 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
      version     = "10"
    }
  }

  assert {
    condition     = aws_lambda_alias.live.function_version == "9"
    error_message = "After a failed CodeSha256 check the alias must still be on the previous version (9), not on the unchecked one."
  }
}
