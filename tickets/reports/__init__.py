"""Reports: per-ticket facts kept by domain-event subscribers, and the metrics over them
(docs/reports.md). A layer above the core: it imports `tickets` and `helpdesk` only."""
