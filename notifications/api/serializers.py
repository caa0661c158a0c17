from rest_framework import serializers

from ..models import Kind, Notification


class NotificationSerializer(serializers.ModelSerializer):
    session_id = serializers.UUIDField(allow_null=True, read_only=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "session_id", "payload", "due_at", "shown_at", "read", "read_at"]
        read_only_fields = fields

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class MarkReadSerializer(serializers.Serializer):
    """Either {"ids": [...]} or {"all": true}."""

    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                required=False, max_length=500)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": ["Give the ids to mark read, or all: true."]})
        return attrs


class UnreadSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class PreferenceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    label = serializers.CharField(read_only=True)
    email = serializers.BooleanField(required=False)
    in_app = serializers.BooleanField(required=False)


class CalendarTokenSerializer(serializers.Serializer):
    url = serializers.URLField()
    token = serializers.CharField()
