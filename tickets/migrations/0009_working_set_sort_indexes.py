"""Indexes of the tickets being worked on (new, open) in the queue's other sort orders.

"All open" and "Unassigned" sorted by priority, creation or SLA due time read their
first rows from these instead of sorting every open ticket (a quarter of a million at a
million tickets). ticket_working_priority is built on tickets.models.priority_rank, the
very expression the priority sort orders by. The included columns are the queue's
filters, so a filtered, sorted page is read from the index alone.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0008_sla_record_alerted_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(models.OrderBy(models.Case(models.When(priority='low', then=models.Value(0)), models.When(priority='normal', then=models.Value(1)), models.When(priority='high', then=models.Value(2)), models.When(priority='urgent', then=models.Value(3)), default=models.Value(0), output_field=models.IntegerField()), descending=True), models.OrderBy(models.F('updated_at'), descending=True), models.OrderBy(models.F('id'), descending=True), condition=models.Q(('status__in', ['new', 'open'])), include=('priority', 'channel', 'assignee', 'team'), name='ticket_working_priority'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('status__in', ['new', 'open'])), fields=['-created_at', '-id'], include=('priority', 'channel', 'assignee', 'team'), name='ticket_working_created'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('status__in', ['new', 'open'])), fields=['sla_next_due_at', 'id'], include=('priority', 'channel', 'assignee', 'team'), name='ticket_working_sla'),
        ),
    ]
