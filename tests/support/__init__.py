"""What several test modules share: results files with known properties, fixtures' data."""
