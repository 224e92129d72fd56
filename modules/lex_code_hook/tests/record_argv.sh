#!/bin/sh
# Stands in for python_executable in code_hook.tftest.hcl: records the argument list the local-exec provisioner
# hands to the interpreter (script path, options, Lambda ARN), one per line, so a later run can assert on it.
printf '%s\n' "$@" > "${LEX_CODE_HOOK_ARGV_FILE:?set LEX_CODE_HOOK_ARGV_FILE}"
