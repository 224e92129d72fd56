#!/bin/sh
# Stands in for python_executable in the module's tests, instead of calling AWS: writes
# "$ALIAS_WAIT_RUN <arguments>" (script path, --timeout, --until MODE, alias ARN) to $ALIAS_WAIT_DIR/MODE, so a
# run can assert which waits it ran (its own ALIAS_WAIT_RUN token) and which it did not (an older token).
set -eu
mode=unknown
previous=""
for arg in "$@"; do
  [ "$previous" = "--until" ] && mode="$arg"
  previous="$arg"
done
mkdir -p "${ALIAS_WAIT_DIR:?set ALIAS_WAIT_DIR}"
printf '%s %s\n' "${ALIAS_WAIT_RUN:?set ALIAS_WAIT_RUN}" "$*" > "$ALIAS_WAIT_DIR/$mode"
