# Fewer indexes on reviews: see the comments on Review (issue 14).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('establishments', '0003_live_detection'),
        ('partners', '0003_scored_events'),
        ('reviews', '0004_scoring_queue_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='review',
            name='booking_ref_hash',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='review',
            name='device_hash',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='review',
            name='establishment',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='reviews', to='establishments.establishment'),
        ),
        migrations.AlterField(
            model_name='review',
            name='ip24_hash',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='review',
            name='ip_hash',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='review',
            name='partner',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='reviews', to='partners.partner'),
        ),
        migrations.AlterField(
            model_name='review',
            name='reviewer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='reviews', to='reviews.reviewer'),
        ),
        migrations.AlterField(
            model_name='review',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('published', 'Published'), ('held', 'Held'), ('removed', 'Removed')], default='pending', max_length=16),
        ),
        migrations.AddIndex(
            model_name='review',
            index=models.Index(fields=['device_hash'], name='review_by_device'),
        ),
        migrations.AddIndex(
            model_name='review',
            index=models.Index(fields=['ip_hash'], name='review_by_ip'),
        ),
    ]
