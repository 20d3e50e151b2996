-- The Flask-Diamond 0.2 data model: 0.1 plus Flask-Security's login tracking columns,
-- as revision 20f04b9598da adds them.
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
    confirmed_at TIMESTAMP,
    current_login_at TIMESTAMP,
    current_login_ip VARCHAR(255),
    last_login_at TIMESTAMP,
    last_login_ip VARCHAR(255),
    login_count INTEGER
);

CREATE TABLE roles_users (
    user_id INTEGER,
    role_id INTEGER,
    FOREIGN KEY (user_id) REFERENCES "user" (id),
    FOREIGN KEY (role_id) REFERENCES role (id)
);
