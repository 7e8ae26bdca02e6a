<?php
return [
    'db' => [
        'host' => 'db.internal',
        'password' => 'Kf4k3PhpPw123',
    ],
    'token_type' => 'Bearer',
];
