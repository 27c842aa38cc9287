# Index-only reads for the live neighbourhood and the burst baseline (issue 14).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('establishments', '0003_live_detection'),
        ('partners', '0003_scored_events'),
        ('reviews', '0005_fewer_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='review',
            name='review_by_establishment',
        ),
        migrations.AddIndex(
            model_name='review',
            index=models.Index(fields=['establishment', 'created_at'], include=('reviewer', 'id'), name='review_by_establishment'),
        ),
        migrations.AddIndex(
            model_name='review',
            index=models.Index(condition=models.Q(('rating__lte', 2)), fields=['establishment', 'created_at'], include=('id',), name='review_negative_by_place'),
        ),
    ]
