variable "endpoint_url" {
  type        = string
  description = "Base URL of the local AWS emulator (moto server), e.g. http://127.0.0.1:5000. scripts/local_run.py passes the port it started moto on."
  default     = "http://127.0.0.1:5000"

  validation {
    condition     = can(regex("^https?://(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]+)?/?$", var.endpoint_url))
    error_message = "endpoint_url must point at a local emulator on 127.0.0.1, localhost or [::1] (this example must never reach AWS)."
  }
}

variable "region" {
  type        = string
  description = "Region the emulator pretends to be."
  default     = "us-east-1"
}

variable "manifest_path" {
  type        = string
  description = "Path to dist/manifest.json from `python build.py`. Defaults to the repository's dist/."
  default     = "../../dist/manifest.json"
}

variable "name_prefix" {
  type        = string
  description = "Prefix for every name the stack creates, so that the local stack reads like one environment among others."
  default     = "local-"
}

variable "lex_bot_id" {
  type        = string
  description = "Id of the Lex V2 bot that already exists in the emulator (scripts/local_run.py creates it)."
}

variable "lex_bot_alias_id" {
  type        = string
  description = "Id of the bot's \"Production\" alias whose code hook the stack points at LexFulfillmentHandler's live alias."
}

variable "lex_locale_ids" {
  type        = list(string)
  description = "Locales of the bot alias whose code hook is managed."
  default     = ["en_US"]
}

variable "lex_code_hook_python" {
  type        = string
  description = "Python interpreter with boto3 that runs the Lex code hook script (the dev virtualenv's, e.g. ../../.venv/bin/python)."
  default     = "python3"
}

variable "functions" {
  type = map(object({
    memory_size                       = optional(number)
    timeout                           = optional(number)
    reserved_concurrent_executions    = optional(number)
    alias_function_version            = optional(string)
    provisioned_concurrent_executions = optional(number)

    wait_for_provisioned_concurrency_after_version_move = optional(bool)
  }))
  description = "Per-function overrides passed to the module, e.g. { LexFulfillmentHandler = { alias_function_version = \"1\" } } to roll the live alias back. Provisioned concurrency keeps the module's defaults (1 on LexFulfillmentHandler; the local AWS emulates it); SnapStart is always off here: moto ignores it."
  default     = {}
}
