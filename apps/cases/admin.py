"""The moderator console: the case queue, the case page with its evidence and
decisions, and the read-only audit trail."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as DbCase
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Trim
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.exceptions import ApplicationError
from apps.reports.selectors import evidence_accesses_of_case

from .evidence import case_evidence, reason_sentence
from .models import Appeal, Case, CaseEvent, DecisionLabel
from .selectors import appeals_of_case, cases_sharing_reviews
from .services import (
    appeal_decide,
    can_decide_appeal,
    case_assign,
    case_decide,
    cases_decide_bulk,
)
from .summaries import (
    assignee_ids,
    case_summary_of,
    event_action_label,
    event_change_text,
    kind_label,
    user_names,
)

admin.site.site_header = gettext_lazy("ReviewGuard moderation")
admin.site.site_title = "ReviewGuard"
admin.site.index_title = gettext_lazy("Moderation")
# The queue and the evidence need the whole width more than a second menu.
admin.site.enable_nav_sidebar = False

def severity_level(severity: float) -> str:
    return "high" if severity >= 0.75 else "medium" if severity >= 0.45 else "low"


# --- Filters ----------------------------------------------------------------------



#: Kinds of case that come first in the queue: live attacks and owner-reported extortion.
PRIORITY_KINDS = (Case.Kind.EXTORTION, Case.Kind.SOCK_PUPPET_RING, Case.Kind.REVIEW_BOMBING)

class StatusFilter(admin.SimpleListFilter):
    """The queue shows open cases unless asked otherwise."""

    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*Case.Status.choices, ("all", _("All"))]

    def choices(self, changelist):
        current = self.value() or Case.Status.OPEN
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or Case.Status.OPEN
        return queryset if value == "all" else queryset.filter(status=value)


class AssignedFilter(admin.SimpleListFilter):
    title = gettext_lazy("assigned to")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("Me")), ("nobody", _("Nobody"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


class PartnerFilter(admin.RelatedOnlyFieldListFilter):
    """Partners that have cases; every case has one, so no "empty" choice."""

    @property
    def include_empty_choice(self) -> bool:
        return False


class EstablishmentFilter(admin.ListFilter):
    """A search box, not a list: there are far too many establishments to list."""

    title = gettext_lazy("establishment")
    parameter_name = "establishment"
    template = "admin/cases/input_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        value = params.pop(self.parameter_name, None)
        if isinstance(value, list):
            value = value[-1] if value else None
        self.value = (value or "").strip()
        if self.value:
            self.used_parameters[self.parameter_name] = self.value

    def has_output(self) -> bool:
        return True

    def expected_parameters(self):
        return [self.parameter_name]

    def queryset(self, request, queryset):
        if not self.value:
            return queryset
        return queryset.filter(
            Q(establishments__name__icontains=self.value)
            | Q(establishments__external_id=self.value)
        ).distinct()

    def choices(self, changelist):
        others = [
            (key, value)
            for key, values in changelist.params.items()
            if key not in (self.parameter_name, "p")
            for value in (values if isinstance(values, list) else [values])
        ]
        yield {
            "value": self.value,
            "parameter": self.parameter_name,
            "others": others,
            "clear": changelist.get_query_string(remove=[self.parameter_name]),
        }


# --- Forms ------------------------------------------------------------------------


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("confirmed", gettext_lazy("Confirm")),
                                          ("dismissed", gettext_lazy("Dismiss"))])
    note = forms.CharField(widget=forms.Textarea, strip=True)


class AppealDecisionForm(forms.Form):
    outcome = forms.ChoiceField(choices=[(Appeal.Status.UPHELD, Appeal.Status.UPHELD.label),
                                         (Appeal.Status.OVERTURNED,
                                          Appeal.Status.OVERTURNED.label)])
    note = forms.CharField(widget=forms.Textarea, strip=True)


class BulkDecisionForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}), strip=True,
        help_text=gettext_lazy("The same note is recorded on every case."),
    )


# --- Case -------------------------------------------------------------------------


def _count(through, column: str):
    return Coalesce(
        Subquery(
            through.objects.filter(case_id=OuterRef("pk"))
            .values("case_id")
            .annotate(n=Count(column))
            .values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = (
        "case_link", "severity_display", "reasons_display", "members_display",
        "status_display", "opened_display",
    )
    list_display_links = ("case_link",)
    list_filter = (
        StatusFilter,
        "kind",
        AssignedFilter,
        ("partners", PartnerFilter),
        EstablishmentFilter,
        ("opened_at", admin.DateFieldListFilter),
    )
    search_fields = (
        "=id", "summary", "reviewers__display_name", "reviewers__external_id",
        "establishments__name", "establishments__external_id", "reviews__external_id",
    )
    search_help_text = gettext_lazy("Case number, reviewer, establishment or review id.")
    # Live attacks and owner-reported extortion before per-reviewer rankings, then
    # the most severe, then the most recently active.
    ordering = (
        DbCase(When(kind__in=PRIORITY_KINDS, then=Value(1)), default=Value(0),
               output_field=IntegerField()).desc(),
        "-severity", "-updated_at",
    )
    actions = ("assign_to_me", "confirm_selected", "dismiss_selected")
    list_per_page = 50
    show_facets = admin.ShowFacets.NEVER
    change_list_template = "admin/cases/case/change_list.html"

    # Cases come from detectors and leave only by decision.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("cases.decide_case")

    def has_bulk_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("cases.bulk_decide_case")

    def get_queryset(self, request):
        return (
            super().get_queryset(request)
            .select_related("assigned_to")
            .prefetch_related("partners")
            .annotate(

                n_reviews=_count(Case.reviews.through, "review_id"),
                n_reviewers=_count(Case.reviewers.through, "reviewer_id"),
                n_establishments=_count(Case.establishments.through, "establishment_id"),
                under_appeal=Exists(Appeal.objects.filter(case_id=OuterRef("pk"),
                                                          status=Appeal.Status.OPEN)),
            )
        )

    # -- columns

    @admin.display(description=gettext_lazy("Case"), ordering="id")
    def case_link(self, case: Case):
        return format_html("<strong>#{}</strong>", case.pk)

    @admin.display(description=gettext_lazy("Severity"), ordering="-severity")
    def severity_display(self, case: Case):
        level = severity_level(case.severity)
        value = f"{case.severity:.2f}"
        return format_html(
            '<span class="rg-sev rg-sev-{}" title="{}">'
            '<span class="rg-sev-bar"><span style="width:{}%"></span></span>'
            '<span class="rg-sev-num">{}</span></span>',
            level, _("severity %(value)s") % {"value": value}, round(case.severity * 100),
            number_format(case.severity, 2),
        )

    @admin.display(description=gettext_lazy("Finding"))
    def reasons_display(self, case: Case):
        reasons = case.reasons[:2]
        items = format_html_join(
            "", '<li title="{}">{}</li>',
            ((r.get("code", ""), Truncator(reason_sentence(r)).chars(130))
             for r in reasons),
        )
        more = len(case.reasons) - len(reasons)
        return format_html(
            '<div class="rg-why"><span class="rg-kind rg-kind-{}">{}</span> '
            '<span class="rg-summary">{}</span><ul>{}</ul>{}</div>',
            case.kind, kind_label(case.kind), case_summary_of(case), items,
            format_html('<span class="rg-more">{}</span>', ngettext(
                "+%(n)s more reason", "+%(n)s more reasons", more) % {"n": more})
            if more > 0 else "",
        )

    @admin.display(description=gettext_lazy("Members"))
    def members_display(self, case: Case):
        return format_html(
            '<span class="rg-members">{}<br>{}<br>{}</span><div class="rg-partners">{}</div>',
            ngettext("%(n)s review", "%(n)s reviews", case.n_reviews) % {"n": case.n_reviews},
            ngettext("%(n)s reviewer", "%(n)s reviewers", case.n_reviewers)
            % {"n": case.n_reviewers},
            ngettext("%(n)s establishment", "%(n)s establishments", case.n_establishments)
            % {"n": case.n_establishments},
            ", ".join(p.name for p in case.partners.all()),
        )

    @admin.display(description=gettext_lazy("Status"), ordering="status")
    def status_display(self, case: Case):
        assigned = case.assigned_to.get_username() if case.assigned_to else ""
        return format_html(
            '<span class="rg-status rg-status-{}">{}</span>{}{}', case.status,
            case.get_status_display(),
            format_html(' <span class="rg-status rg-status-appeal">{}</span>', _("appeal"))
            if getattr(case, "under_appeal", False) else "",
            format_html('<div class="rg-assigned">→ {}</div>', assigned) if assigned
            else format_html('<div class="rg-assigned rg-muted">{}</div>', _("unassigned")),
        )

    @admin.display(description=gettext_lazy("Opened"), ordering="opened_at")
    def opened_display(self, case: Case):
        return format_html('<span title="{}">{}</span>', case.opened_at.isoformat(),
                           date_format(timezone.localtime(case.opened_at), "SHORT_DATETIME_FORMAT"))

    # -- queue

    def changelist_view(self, request, extra_context=None):
        open_counts = dict(
            Case.objects.filter(status=Case.Status.OPEN)
            .values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
        )
        base = reverse("admin:cases_case_changelist")
        status_filter = request.GET.get("status") or Case.Status.OPEN
        extra_context = {
            **(extra_context or {}),
            "title": _("Case queue"),
            "kind_counts": [
                {"kind": kind, "label": kind_label(kind), "count": open_counts.get(kind, 0),
                 "url": f"{base}?status=open&kind={kind}",
                 "active": request.GET.get("kind") == kind}
                for kind in Case.Kind.values
            ],
            "open_total": sum(open_counts.values()),
            "mine_total": Case.objects.filter(status=Case.Status.OPEN,
                                              assigned_to=request.user).count(),
            "queue_url": base,
            "status_filter": status_filter,
            "status_label": dict([*Case.Status.choices, ("all", _("all"))]).get(
                status_filter, status_filter),
        }
        return super().changelist_view(request, extra_context=extra_context)

    # -- actions

    @admin.action(description=gettext_lazy("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        assigned = skipped = 0
        for case in queryset:
            try:
                assigned += case_assign(case=case, assignee=request.user, actor=request.user)
            except ApplicationError:
                skipped += 1
        message = ngettext("%(n)s case assigned to you.", "%(n)s cases assigned to you.",
                           assigned) % {"n": assigned}
        if skipped:
            message += " " + ngettext("%(n)s already decided, left alone.",
                                      "%(n)s already decided, left alone.", skipped) % {"n": skipped}
        self.message_user(request, message)

    @admin.action(description=gettext_lazy("Confirm selected cases (bulk)"),
                  permissions=["bulk_decide"])
    def confirm_selected(self, request, queryset):
        return self._bulk_decide(request, queryset, "confirmed")

    @admin.action(description=gettext_lazy("Dismiss selected cases (bulk)"),
                  permissions=["bulk_decide"])
    def dismiss_selected(self, request, queryset):
        return self._bulk_decide(request, queryset, "dismissed")

    def _bulk_decide(self, request, queryset, decision: str):
        form = BulkDecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            result = cases_decide_bulk(cases=list(queryset.order_by("id")), decision=decision,
                                       actor=request.user, note=form.cleaned_data["note"])
            moved = sum(len(o.reviews_moved) for o in result.decided)
            message = (ngettext("%(n)s case confirmed;", "%(n)s cases confirmed;",
                                len(result.decided)) if decision == "confirmed" else
                       ngettext("%(n)s case dismissed;", "%(n)s cases dismissed;",
                                len(result.decided))) % {"n": len(result.decided)}
            message += " " + ngettext("%(n)s review changed status.",
                                      "%(n)s reviews changed status.", moved) % {"n": moved}
            if result.skipped:
                message += " " + ngettext("Skipped %(n)s already decided.",
                                          "Skipped %(n)s already decided.",
                                          len(result.skipped)) % {"n": len(result.skipped)}
            self.message_user(request, message, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": (ngettext("Confirm %(n)s case", "Confirm %(n)s cases", queryset.count())
                      if decision == "confirmed" else
                      ngettext("Dismiss %(n)s case", "Dismiss %(n)s cases", queryset.count()))
            % {"n": queryset.count()},
            "cases": queryset.order_by("-severity"),
            "decision": decision,
            "action": request.POST.get("action"),
            "form": form,
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/cases/case/bulk_decide.html", context)

    # -- the case page

    def get_urls(self):
        urls = super().get_urls()
        mine = [
            path("<path:object_id>/decide/", self.admin_site.admin_view(self.decide_view),
                 name="cases_case_decide"),
            path("<path:object_id>/assign/", self.admin_site.admin_view(self.assign_view),
                 name="cases_case_assign"),
            path("<path:object_id>/appeal/", self.admin_site.admin_view(self.appeal_view),
                 name="cases_case_appeal"),
        ]
        return mine + urls

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, unquote(object_id))
        if case is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, case):
            raise PermissionDenied
        appeals = list(appeals_of_case(case=case))
        events = list(case.events.select_related("actor").order_by("-at", "-id"))
        names = user_names(assignee_ids(events))
        for event in events:
            event.change_text = event_change_text(event, names=names)
            event.action_label = event_action_label(event.action)
        open_appeal = next((a for a in appeals if a.status == Appeal.Status.OPEN), None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Case #%(id)s · %(kind)s") % {"id": case.pk, "kind": kind_label(case.kind)},
            "case": case,
            "kind_label": kind_label(case.kind),
            "summary": case_summary_of(case),
            "severity_level": severity_level(case.severity),
            "severity_pct": round(case.severity * 100),
            "partners": list(case.partners.all()),
            "establishments": list(case.establishments.all()[:20]),
            "events": events,
            "can_decide": case.status == Case.Status.OPEN and open_appeal is None
            and self.has_decide_permission(request, case),
            "appeals": appeals,
            "open_appeal": open_appeal,
            "can_decide_appeal": open_appeal is not None
            and can_decide_appeal(appeal=open_appeal, user=request.user),
            "can_assign": case.status == Case.Status.OPEN
            and self.has_change_permission(request, case),
            "decision_form": DecisionForm(),
            "can_view_evidence": request.user.has_perm("reports.view_threatevidence"),
            # A decision applies to this case's reviews: say which also sit in another one.
            "also_open_in": cases_sharing_reviews(case=case),
            "evidence_accesses": evidence_accesses_of_case(case_id=case.pk, limit=20)
            if case.kind == Case.Kind.EXTORTION else [],
            **case_evidence(case),
        }
        return TemplateResponse(request, "admin/cases/case/evidence.html", context)

    def _case_url(self, case: Case) -> str:
        return reverse("admin:cases_case_change", args=[case.pk])

    def decide_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:cases_case_change", args=[object_id]))
        case = get_object_or_404(Case, pk=unquote(object_id))
        if not self.has_decide_permission(request, case):
            raise PermissionDenied
        form = DecisionForm(request.POST)
        if not form.is_valid():
            errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
            self.message_user(request, _("Nothing decided: %(errors)s") % {"errors": errors},
                              messages.ERROR)
            return HttpResponseRedirect(self._case_url(case))
        review_decisions = {
            int(key.removeprefix("review-")): value
            for key, value in request.POST.items()
            if key.startswith("review-") and key.removeprefix("review-").isdigit()
            and value in ("confirmed", "dismissed")
        }
        try:
            outcome = case_decide(case=case, decision=form.cleaned_data["decision"],
                                  actor=request.user, note=form.cleaned_data["note"],
                                  review_decisions=review_decisions or None)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(self._case_url(case))
        moved = len(outcome.reviews_moved)
        confirmed = outcome.decision == "confirmed"
        message = (_("Case #%(id)s confirmed:") if confirmed else
                   _("Case #%(id)s dismissed:")) % {"id": case.pk}
        message += " " + (ngettext("%(n)s review removed.", "%(n)s reviews removed.", moved)
                          if confirmed else
                          ngettext("%(n)s review published.", "%(n)s reviews published.", moved)
                          ) % {"n": moved}
        if outcome.reviewers_flagged:
            flagged = len(outcome.reviewers_flagged)
            message += " " + ngettext("%(n)s reviewer flagged.", "%(n)s reviewers flagged.",
                                      flagged) % {"n": flagged}
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(self._case_url(case))

    def appeal_view(self, request, object_id):
        """A senior moderator upholds or overturns the case's open appeal."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:cases_case_change", args=[object_id]))
        case = get_object_or_404(Case, pk=unquote(object_id))
        appeal = get_object_or_404(case.appeals, pk=request.POST.get("appeal", ""),
                                   status=Appeal.Status.OPEN)
        form = AppealDecisionForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Nothing decided: choose an outcome and write a note."),
                              messages.ERROR)
            return HttpResponseRedirect(self._case_url(case))
        try:
            appeal_decide(appeal=appeal, actor=request.user, outcome=form.cleaned_data["outcome"],
                          note=form.cleaned_data["note"])
        except ApplicationError as exc:
            if exc.status_code == 403:
                raise PermissionDenied(exc.message) from exc
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, _("Appeal #%(id)s %(outcome)s.") % {
                "id": appeal.pk, "outcome": Appeal.Status(form.cleaned_data["outcome"]).label},
                messages.SUCCESS)
        return HttpResponseRedirect(self._case_url(case))

    def assign_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:cases_case_change", args=[object_id]))
        case = get_object_or_404(Case, pk=unquote(object_id))
        if not self.has_change_permission(request, case):
            raise PermissionDenied
        assignee = None if request.POST.get("unassign") else request.user
        try:
            case_assign(case=case, assignee=assignee, actor=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, (_("Case #%(id)s unassigned.") if assignee is None
                                        else _("Case #%(id)s assigned to you."))
                              % {"id": case.pk}, messages.SUCCESS)
        return HttpResponseRedirect(self._case_url(case))


# --- Audit ------------------------------------------------------------------------


def _user_name(user_id):
    """Subquery: the full name (else the username) of the user whose id is ``user_id``."""
    users = get_user_model().objects.filter(pk=Cast(user_id, BigIntegerField()))
    full = Trim(Concat("first_name", Value(" "), "last_name"))
    return Subquery(users.annotate(name=Coalesce(NullIf(full, Value("")), "username"))
                    .values("name")[:1])


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Visible to whoever may view it, writable by nobody, superusers included."""


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "case_link", "action_display", "actor", "change_display",
                    "note_display")
    list_filter = ("action", ("at", admin.DateFieldListFilter))
    search_fields = ("=case__id", "note", "actor__username")
    list_select_related = ("case", "actor")
    ordering = ("-at", "-id")
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=gettext_lazy("Case"), ordering="case_id")
    def case_link(self, event: CaseEvent):
        return format_html('<a href="{}">#{}</a>',
                           reverse("admin:cases_case_change", args=[event.case_id]), event.case_id)

    def get_queryset(self, request):
        # Events store assignees by id; the list shows their names, fetched with
        # the page's own query instead of one query per row.
        return super().get_queryset(request).annotate(
            before_assignee=_user_name(KeyTextTransform("assigned_to", OuterRef("before"))),
            after_assignee=_user_name(KeyTextTransform("assigned_to", OuterRef("after"))),
        )

    @admin.display(description=gettext_lazy("Action"), ordering="action")
    def action_display(self, event: CaseEvent) -> str:
        return event_action_label(event.action)

    @admin.display(description=gettext_lazy("Change"))
    def change_display(self, event: CaseEvent):
        names = {event.before.get("assigned_to"): event.before_assignee,
                 event.after.get("assigned_to"): event.after_assignee}
        return event_change_text(event, names={k: v for k, v in names.items() if k and v})

    @admin.display(description=gettext_lazy("Note"))
    def note_display(self, event: CaseEvent):
        return Truncator(event.note).chars(120)


@admin.register(DecisionLabel)
class DecisionLabelAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "case", "kind", "label", "decided_by")
    list_filter = ("kind", "label")
    list_select_related = ("case", "decided_by")
