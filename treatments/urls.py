from django.urls import path

from treatments import views

app_name = "treatments"

urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/<int:patient_pk>/", views.plan_create, name="create"),
    path("<int:pk>/", views.plan_detail, name="detail"),
    path("<int:pk>/edit/", views.plan_edit, name="edit"),
    path("<int:pk>/authorizations/new/", views.authorization_create_view, name="authorization_create"),
    path("authorizations/<int:pk>/edit/", views.authorization_edit, name="authorization_edit"),
    path("<int:pk>/activate/", views.plan_status, {"action": "activate"}, name="activate"),
    path("<int:pk>/hold/", views.plan_status, {"action": "hold"}, name="hold"),
    path("<int:pk>/resume/", views.plan_status, {"action": "resume"}, name="resume"),
    path("<int:pk>/complete/", views.plan_status, {"action": "complete"}, name="complete"),
    path("<int:pk>/cancel/", views.plan_status, {"action": "cancel"}, name="cancel"),
    path("<int:pk>/maintenance/", views.plan_maintenance, name="maintenance"),
    path("medications/", views.medication_list, name="medications"),
    path("medications/new/", views.medication_create, name="medication_create"),
    path("medications/<int:pk>/edit/", views.medication_edit, name="medication_edit"),
    path("medications/<int:pk>/deactivate/", views.medication_deactivate, name="medication_deactivate"),
]
