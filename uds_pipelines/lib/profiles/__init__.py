"""Customer profiles: survivorship of personal attributes, computed traits, RFM scores and KPIs."""
