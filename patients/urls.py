from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create_view, name="create"),
    path("<int:pk>/", views.patient_detail, name="detail"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/merge/", views.patient_merge_view, name="merge"),
    path("<int:pk>/screening/", views.screening_view, name="screening"),
    path("<int:pk>/screening/history/", views.screening_history, name="screening_history"),
]
