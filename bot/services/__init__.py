"""Business rules, one module per domain. Each public function owns its unit of work."""
