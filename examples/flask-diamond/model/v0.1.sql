-- The Flask-Diamond 0.1 data model (Flask-Security's users and roles), as revision
-- cf0f5b45967 makes it.
CREATE TABLE role (
    id INTEGER PRIMARY KEY,
    name VARCHAR(80) UNIQUE,
    description VARCHAR(255)
);

CREATE TABLE "user" (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255) UNIQUE,
    password VARCHAR(255) NOT NULL,
    active BOOLEAN,
    confirmed_at TIMESTAMP
);

CREATE TABLE roles_users (
    user_id INTEGER,
    role_id INTEGER,
    FOREIGN KEY (user_id) REFERENCES "user" (id),
    FOREIGN KEY (role_id) REFERENCES role (id)
);
