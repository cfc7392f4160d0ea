"""Outgoing webhooks: what happened on the desk, told to other systems.

`payloads` turns a domain event into a JSON payload, `outbox` writes one delivery per
subscribed webhook in the event's transaction and sends it (claim once, retry with
backoff, recover a worker's death), `signing` follows the Standard Webhooks scheme,
`services` are the admins' and the API's writes. docs/api.md is the receiver's side.
"""
