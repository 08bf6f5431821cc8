from django.urls import path

from routing import options, testcall, views
from routing import views_policy as policy
from routing.checks import views as checks

app_name = "routing"
urlpatterns = [
    # Networks
    path("networks/", views.NetworkListView.as_view(), name="network_list"),
    path("networks/add/", views.NetworkCreateView.as_view(), name="network_add"),
    path("networks/<int:pk>/", views.NetworkDetailView.as_view(), name="network_detail"),
    path("networks/<int:pk>/edit/", views.NetworkUpdateView.as_view(), name="network_edit"),
    path("networks/<int:pk>/delete/", views.NetworkDeleteView.as_view(), name="network_delete"),
    # VMGateClients
    path("clients/", views.VMGateClientListView.as_view(), name="vmgateclient_list"),
    path("clients/add/", views.VMGateClientCreateView.as_view(), name="vmgateclient_add"),
    path("clients/<int:pk>/", views.VMGateClientDetailView.as_view(), name="vmgateclient_detail"),
    path(
        "clients/<int:pk>/edit/",
        views.VMGateClientUpdateView.as_view(),
        name="vmgateclient_edit",
    ),
    path(
        "clients/<int:pk>/delete/",
        views.VMGateClientDeleteView.as_view(),
        name="vmgateclient_delete",
    ),
    # Routing rules
    path("rules/", views.RoutingRuleListView.as_view(), name="routingrule_list"),
    path("rules/add/", views.RoutingRuleCreateView.as_view(), name="routingrule_add"),
    path("rules/<int:pk>/", views.RoutingRuleDetailView.as_view(), name="routingrule_detail"),
    path("rules/<int:pk>/edit/", views.RoutingRuleUpdateView.as_view(), name="routingrule_edit"),
    path(
        "rules/<int:pk>/delete/",
        views.RoutingRuleDeleteView.as_view(),
        name="routingrule_delete",
    ),
    path("rules/label/", views.label_field, name="rule_label"),
    # Targets of a rule
    path("rules/<int:pk>/targets/", views.RuleTargetsView.as_view(), name="routingrule_targets"),
    path("rules/<int:pk>/targets/add/", views.TargetAddView.as_view(), name="routingtarget_add"),
    path("targets/<int:pk>/edit/", views.TargetEditView.as_view(), name="routingtarget_edit"),
    path("targets/<int:pk>/delete/", views.TargetDeleteView.as_view(), name="routingtarget_delete"),
    path("targets/field/", views.target_field, name="target_field"),
    # Routing policy (SPEC §9): translation sets and their rules
    path("translations/", policy.TranslationSetListView.as_view(), name="translationset_list"),
    path("translations/add/", policy.TranslationSetCreateView.as_view(), name="translationset_add"),
    path(
        "translations/<int:pk>/",
        policy.TranslationSetDetailView.as_view(),
        name="translationset_detail",
    ),
    path(
        "translations/<int:pk>/edit/",
        policy.TranslationSetUpdateView.as_view(),
        name="translationset_edit",
    ),
    path(
        "translations/<int:pk>/delete/",
        policy.TranslationSetDeleteView.as_view(),
        name="translationset_delete",
    ),
    path(
        "translations/<int:pk>/test/",
        policy.TranslationSetTestView.as_view(),
        name="translationset_test",
    ),
    path(
        "translations/<int:pk>/rules/add/",
        policy.TranslationRuleCreateView.as_view(),
        name="translationrule_add",
    ),
    path(
        "translation-rules/<int:pk>/edit/",
        policy.TranslationRuleUpdateView.as_view(),
        name="translationrule_edit",
    ),
    path(
        "translation-rules/<int:pk>/delete/",
        policy.TranslationRuleDeleteView.as_view(),
        name="translationrule_delete",
    ),
    # Number lists and their entries
    path("number-lists/", policy.NumberListListView.as_view(), name="numberlist_list"),
    path("number-lists/add/", policy.NumberListCreateView.as_view(), name="numberlist_add"),
    path("number-lists/<int:pk>/", policy.NumberListDetailView.as_view(), name="numberlist_detail"),
    path(
        "number-lists/<int:pk>/edit/",
        policy.NumberListUpdateView.as_view(),
        name="numberlist_edit",
    ),
    path(
        "number-lists/<int:pk>/delete/",
        policy.NumberListDeleteView.as_view(),
        name="numberlist_delete",
    ),
    path(
        "number-lists/<int:pk>/entries/add/",
        policy.NumberListEntryCreateView.as_view(),
        name="numberlistentry_add",
    ),
    path(
        "number-list-entries/<int:pk>/edit/",
        policy.NumberListEntryUpdateView.as_view(),
        name="numberlistentry_edit",
    ),
    path(
        "number-list-entries/<int:pk>/delete/",
        policy.NumberListEntryDeleteView.as_view(),
        name="numberlistentry_delete",
    ),
    # Schedules and their windows
    path("schedules/", policy.ScheduleListView.as_view(), name="schedule_list"),
    path("schedules/add/", policy.ScheduleCreateView.as_view(), name="schedule_add"),
    path("schedules/<int:pk>/", policy.ScheduleDetailView.as_view(), name="schedule_detail"),
    path("schedules/<int:pk>/edit/", policy.ScheduleUpdateView.as_view(), name="schedule_edit"),
    path("schedules/<int:pk>/delete/", policy.ScheduleDeleteView.as_view(), name="schedule_delete"),
    path(
        "schedules/<int:pk>/windows/add/",
        policy.ScheduleWindowCreateView.as_view(),
        name="schedulewindow_add",
    ),
    path(
        "schedule-windows/<int:pk>/edit/",
        policy.ScheduleWindowUpdateView.as_view(),
        name="schedulewindow_edit",
    ),
    path(
        "schedule-windows/<int:pk>/delete/",
        policy.ScheduleWindowDeleteView.as_view(),
        name="schedulewindow_delete",
    ),
    # Options endpoints of the searchable selects (vmgate/widgets.py)
    path("options/policy/", options.policy_options, name="policy_options"),
    path("options/rules/", options.rule_options, name="rule_options"),
    path("options/targets/", options.target_options, name="target_options"),
    # -- engine: test call and routing checks (added by the engine helper below) --
    path("test-call/", testcall.test_call, name="test_call"),
    path("test-call/save/", testcall.save_as_check, name="routingcheck_save"),
    path("checks/", checks.RoutingCheckListView.as_view(), name="routingcheck_list"),
    path("checks/add/", checks.RoutingCheckCreateView.as_view(), name="routingcheck_add"),
    path("checks/run/", checks.run_all, name="routingcheck_run_all"),
    path(
        "checks/<int:pk>/edit/", checks.RoutingCheckUpdateView.as_view(), name="routingcheck_edit"
    ),
    path(
        "checks/<int:pk>/delete/",
        checks.RoutingCheckDeleteView.as_view(),
        name="routingcheck_delete",
    ),
    path("checks/<int:pk>/run/", checks.run_one, name="routingcheck_run"),
]
