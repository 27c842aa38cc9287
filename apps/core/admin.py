"""Admin pieces shared by the apps' moderator pages."""


class ReadOnlyAdminMixin:
    """Visible to whoever may view it, writable by nobody, superusers included.

    Records that change only through services (reviews by decisions, the audit
    log, webhook deliveries) are shown, never edited, in the admin.
    """

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
