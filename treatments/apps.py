from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"

    def ready(self) -> None:
        from patients.chart import ChartSection, register_section
        from treatments.views import chart_plans

        register_section(ChartSection("plans", "treatments/_chart_plans.html", chart_plans, order=10))
