"""A partial index of the running SLA clocks that warned or breached, by due time.

The queue's "SLA at risk" count and filter read the ones not yet due from it
(tickets.sla.selectors.sla_at_risk_parts); past-due tickets come from ticket_sla_due_open.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0007_queue_indexes_cover_filters'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='slarecord',
            index=models.Index(condition=models.Q(('state', 'running'), models.Q(('warned_at__isnull', False), ('breached_at__isnull', False), _connector='OR')), fields=['due_at'], include=('ticket',), name='sla_record_alerted'),
        ),
    ]
