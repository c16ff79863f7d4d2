def test_health(client):
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json["database"] == "connected"


def test_admin_reads_own_college(client, factory):
    kit = factory.college()
    r = client.get(f"/api/v1/colleges/{kit.id}", headers=kit.admin.headers)
    assert r.status_code == 200, r.json
    assert r.json["data"]["college_id"] == kit.id
