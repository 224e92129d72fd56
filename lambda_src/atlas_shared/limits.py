"""Amazon Lex V2's limits on a code hook response, and the budgets this project keeps inside them: one table.

=====================================  ==========  =================================================================
name                                   value       source / why
=====================================  ==========  =================================================================
LEX_MESSAGE_MAX_CHARS                  1,024       Lex V2 runtime model, ``Message.content`` (shape ``Text``,
                                                   length 1..1024): API_runtime_Message; botocore
                                                   ``lexv2-runtime`` service model
LEX_SESSION_ATTRIBUTES_MAX_BYTES       12,000      Lex quotas: "The maximum output size is 25 KB, of which 12 KB can
                                                   be session attributes" (https://docs.aws.amazon.com/lex/latest/dg/
                                                   gl-limits.html; https://docs.aws.amazon.com/lexv2/latest/dg/
                                                   quotas.html). "KB" read as 1,000 bytes: the lower reading
LEX_ACTIVE_CONTEXTS_MAX                20          Lex V2 runtime model, ``ActiveContextsList`` (0..20)
LEX_CONTEXT_ATTRIBUTES_MAX             10          ``ActiveContextParametersMap`` (0..10 entries)
LEX_CONTEXT_TTL_SECONDS                5..86,400   ``ActiveContextTimeToLiveInSeconds``
LEX_CONTEXT_TURNS                      1..20       ``ActiveContextTurnsToLive``
SESSION_ATTRIBUTES_BUDGET_BYTES        8,192       ours: what our own attributes may fill, leaving room for
                                                   attributes Amazon Connect and the bot set
SCENARIO_MAX_BYTES                     4,096       ours: scenario + greeting carried in the session, else the
                                                   container's memory
HISTORY_MAX_BYTES                      2,048       ours: the ``conversationHistory`` attribute
HISTORY_ENTRY_MAX_BYTES                512         ours: one history entry (a long reply is clipped, not allowed
                                                   to push out every older turn)
USER_TURN_MAX_CHARS                    2,000       ours: the caller's words sent to Bedrock (~400 spoken words)
=====================================  ==========  =================================================================

How session attributes are measured (:func:`atlas_shared.session.attributes_size`): the UTF-8 bytes of the map
as compact JSON (``{"k":"v",...}``). That is never less than the sum of the UTF-8 bytes of the keys and values
(JSON only adds quotes, separators and escapes), so the map fits whichever of the two counts Lex applies.
"""

from __future__ import annotations

LEX_MESSAGE_MAX_CHARS = 1024
LEX_SESSION_ATTRIBUTES_MAX_BYTES = 12_000
LEX_ACTIVE_CONTEXTS_MAX = 20
LEX_CONTEXT_ATTRIBUTES_MAX = 10
LEX_CONTEXT_TTL_SECONDS = (5, 86_400)
LEX_CONTEXT_TURNS = (1, 20)

SESSION_ATTRIBUTES_BUDGET_BYTES = 8 * 1024
SCENARIO_MAX_BYTES = 4 * 1024
HISTORY_MAX_BYTES = 2 * 1024
HISTORY_ENTRY_MAX_BYTES = 512
USER_TURN_MAX_CHARS = 2000
