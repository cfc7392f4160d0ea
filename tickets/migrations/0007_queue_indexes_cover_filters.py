"""The queue indexes carry the queue's other filter and sort columns (INCLUDE).

ticket_list picks a page's ids in a subquery that reads only these columns, so with them
in the index PostgreSQL answers it from the index alone: a filtered queue at a million
tickets (team + statuses + priority + channel) no longer visits some 17,000 table pages
to test priority and channel row by row. Same keys, same names: the old indexes are
dropped and built again with the extra columns (docs/architecture.md, "Agent workspace
at scale").
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0006_ticket_recently_solved_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_status_upd',
        ),
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_asg',
        ),
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_team',
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(fields=['status', '-updated_at', '-id'], include=('priority', 'channel', 'created_at', 'sla_next_due_at', 'assignee', 'team'), name='ticket_status_upd'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(fields=['assignee', 'status', '-updated_at', '-id'], include=('priority', 'channel', 'created_at', 'sla_next_due_at', 'team'), name='ticket_asg'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(fields=['team', 'status', '-updated_at', '-id'], include=('priority', 'channel', 'created_at', 'sla_next_due_at', 'assignee'), name='ticket_team'),
        ),
    ]
