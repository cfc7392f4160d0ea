"""The SLA engine: business-time arithmetic, policy matching, due times and the timer.

calendar.py   pure business-time functions over a frozen Calendar
services.py   sla_recompute and configuration writes
timer.py      sla_process_due: the beat tick
selectors.py  sla_state, sla_at_risk, the report
"""
