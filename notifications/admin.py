"""Moderators see the outbox: failures with their error, rows whose outcome is unknown, and why a row was
skipped or superseded."""

from django.contrib import admin

from .models import Notification, Preference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "recipient", "status", "due_at", "attempts", "finished_at", "short_error"]
    list_filter = ["status", "kind", ("due_at", admin.DateFieldListFilter)]
    list_select_related = ["recipient"]
    raw_id_fields = ["recipient", "session"]
    search_fields = ["recipient__username", "recipient__email", "=session__id"]
    date_hierarchy = "due_at"
    show_full_result_count = False
    readonly_fields = [f.name for f in Notification._meta.fields]

    @admin.display(description="reason or last error")
    def short_error(self, notification) -> str:
        return notification.last_error[:80]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "email", "in_app"]
    list_filter = ["kind", "email", "in_app"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
