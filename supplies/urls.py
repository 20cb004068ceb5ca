from django.urls import path

from supplies import views

app_name = "supplies"

urlpatterns = [
    path("supplies/", views.stock, name="list"),
    path("supplies/receive/", views.receive, name="receive"),
    path("supplies/lots/<int:pk>/", views.lot, name="lot"),
    path("supplies/lots/<int:pk>/correct/", views.correct, name="correct"),
    path("supplies/items/new/", views.item_create, name="item_create"),
    path("supplies/fees/", views.fees, name="fees"),
    path("reports/session-economics/", views.economics, name="economics"),
]
