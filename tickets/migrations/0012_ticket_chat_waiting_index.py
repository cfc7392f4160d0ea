"""The active chat tickets, for the workspace header's waiting-chats counter."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0011_search_trigram'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('channel', 'chat'), ('status__in', ['new', 'open'])), fields=['last_inbound_at'], name='ticket_chat_working'),
        ),
    ]
