"""Operating crawls: schedules and due work, health measures, alert rules and delivery, status."""
